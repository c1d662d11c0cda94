"""Charts drawn on the server as SVG, so that the same chart appears on pages and in PDFs."""

from __future__ import annotations

from markupsafe import Markup, escape

LIKERT_LABELS = ("1", "2", "3", "4", "5")
BAR_COLOURS = ("#c0392b", "#e67e22", "#b7950b", "#2e86c1", "#1b7f3b")


def distribution_svg(distribution: dict[int, int], labels: list[str] | None = None) -> Markup:
    """Horizontal bars, one per value (1-5 or the options of a choice question)."""
    labels = labels or list(LIKERT_LABELS)
    counts = [distribution.get(value, 0) for value in range(1, len(labels) + 1)]
    total = sum(counts) or 1
    label_width = 120 if any(len(label) > 2 for label in labels) else 24
    width, bar_height, gap = 420, 18, 6
    bar_space = width - label_width - 70
    height = len(labels) * (bar_height + gap) + gap
    # Read out as one line of figures (the bars' own texts are hidden inside the image).
    summary = " · ".join(
        f"{label}: {count} ({round(100 * count / total)}%)"
        for label, count in zip(labels, counts, strict=True)
    )
    # The font named: in a PDF, SVG text would otherwise be embedded in a face of its own.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(summary)}" '
        'font-family="NanumGothic, sans-serif">'
    ]
    for index, (label, count) in enumerate(zip(labels, counts, strict=True)):
        y = gap + index * (bar_height + gap)
        length = round(bar_space * count / total, 1)
        colour = (
            BAR_COLOURS[index] if len(labels) == 5 and labels == list(LIKERT_LABELS) else "#2e86c1"
        )
        share = round(100 * count / total)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" font-size="12" '
            f'fill="#334">{escape(label[:18])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{bar_space}" height="{bar_height}" '
            'fill="#eef1f5"/>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + bar_space + 6}" y="{y + 13}" font-size="12" fill="#334">'
            f"{count} ({share}%)</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def score_svg(score: float | None, target: float) -> Markup:
    """A 0-100 gauge bar with the target marked; hidden from screen readers, as the figure
    and the verdict are written beside it."""
    width, height = 260, 26
    value = 0 if score is None else max(0.0, min(100.0, score))
    colour = "#187436" if score is not None and score >= target else "#b3261e"
    marker = round(width * target / 100, 1)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gauge" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-hidden="true" focusable="false">'
        f'<rect x="0" y="6" width="{width}" height="14" rx="7" fill="#eef1f5"/>'
        f'<rect x="0" y="6" width="{round(width * value / 100, 1)}" height="14" rx="7" '
        f'fill="{colour}"/>'
        f'<line x1="{marker}" y1="0" x2="{marker}" y2="{height}" stroke="#17212b" '
        'stroke-width="2"/>'
        "</svg>"
    )
