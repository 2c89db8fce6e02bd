"""The two charts of the benchmarks, drawn with matplotlib's Agg backend
(no display needed): accuracy per method with error bars, and time per
training iteration per method."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

BASELINE_COLOR = '#9e9e9e'
METHOD_COLOR = '#3b75af'
TARGET_COLOR = '#c44e52'


def accuracy_chart(names, means, stds, path, title, baseline=None,
                   ylabel='top-1 (%)'):
    """Bar chart of the mean top-1 of each method with ± std error bars.

    Args:
        names (list[str]): Method names, one bar each, in this order.
        means (list[float]): Mean top-1 (%) per method.
        stds (list[float | None]): Standard deviation per method; None
            (a single seed) draws no error bar.
        path (str): PNG file to write.
        title (str): Chart title.
        baseline (str, optional): Name of the bar drawn in grey and as a
            dashed reference line (the student alone).
        ylabel (str): Y axis label.

    Returns:
        str: ``path``.
    """
    if not (len(names) == len(means) == len(stds)):
        raise ValueError(
            f'accuracy_chart: {len(names)} names, {len(means)} means and '
            f'{len(stds)} stds; they must match')
    fig, ax = plt.subplots(figsize=(1.3 * len(names) + 2, 4.2), dpi=110)
    errors = [0. if s is None else s for s in stds]
    colors = [BASELINE_COLOR if n == baseline else METHOD_COLOR
              for n in names]
    bars = ax.bar(range(len(names)), means, yerr=errors, capsize=5,
                  color=colors, edgecolor='black', linewidth=0.6)
    for bar, mean, err in zip(bars, means, errors):
        ax.annotate(f'{mean:.2f}',
                    (bar.get_x() + bar.get_width() / 2, mean + err),
                    xytext=(0, 3), textcoords='offset points', ha='center',
                    va='bottom', fontsize=8)
    if baseline is not None and baseline in names:
        ax.axhline(means[names.index(baseline)], color=BASELINE_COLOR,
                   linestyle='--', linewidth=1)
    low = min(m - e for m, e in zip(means, errors))
    high = max(m + e for m, e in zip(means, errors))
    margin = max(1.0, 0.25 * (high - low))
    ax.set_ylim(max(0., low - margin), min(100., high + margin))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha='right')
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def speed_chart(groups, path, title, xlabel='ms per training iteration'):
    """Horizontal bars of the median time per iteration, one panel per
    setting (each setting has its own scale: networks and inputs differ).

    Args:
        groups (list[tuple]): ``(setting title, [(case, ms, is_baseline),
            ...])`` per panel; baseline cases are drawn in grey.
        path (str): PNG file to write.
        title (str): Figure title.
        xlabel (str): X axis label.

    Returns:
        str: ``path``.
    """
    if not groups:
        raise ValueError('speed_chart: no settings to draw')
    heights = [max(1.2, 0.45 * len(cases) + 0.6) for _, cases in groups]
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(7.5, sum(heights) + 0.6), dpi=110,
        gridspec_kw=dict(height_ratios=heights), squeeze=False)
    for ax, (setting, cases) in zip(axes[:, 0], groups):
        labels = [c[0] for c in cases]
        values = [c[1] for c in cases]
        colors = [BASELINE_COLOR if c[2] else METHOD_COLOR for c in cases]
        ypos = range(len(cases))[::-1]
        bars = ax.barh(list(ypos), values, color=colors, edgecolor='black',
                       linewidth=0.6)
        for bar, value in zip(bars, values):
            ax.annotate(f'{value:.0f}',
                        (value, bar.get_y() + bar.get_height() / 2),
                        xytext=(3, 0), textcoords='offset points',
                        va='center', fontsize=8)
        ax.set_yticks(list(ypos))
        ax.set_yticklabels(labels, fontsize=8)
        ax.set_xlim(0, 1.15 * max(values))
        ax.set_title(setting, fontsize=9, loc='left')
        ax.grid(axis='x', alpha=0.3)
    axes[-1, 0].set_xlabel(xlabel)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
