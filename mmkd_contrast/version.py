__version__ = '0.1.0'


def parse_version_info(version_str):
    """Parse a version string into a tuple of ints, ignoring local parts."""
    parts = []
    for x in version_str.split('+')[0].split('.'):
        digits = ''
        for c in x:
            if not c.isdigit():
                break
            digits += c
        if not digits:
            break
        parts.append(int(digits))
        if digits != x:  # a pre-release suffix such as 'rc1' ends it
            break
    return tuple(parts)


version_info = parse_version_info(__version__)
