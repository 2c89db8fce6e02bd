__version__ = '0.1.0'


def parse_version_info(version_str):
    """Parse a version string into a tuple of ints, ignoring local parts."""
    parts = []
    for x in version_str.split('+')[0].split('.'):
        digits = ''.join(c for c in x if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if not x.isdigit():
            break
    return tuple(parts)


version_info = parse_version_info(__version__)
