"""Plain-text pictures of a run: the history chart, digits, confusions.

Every function returns a string (or rows of strings) and prints nothing,
so the command line can show them through rich or plain ``print`` alike.
Nothing here runs inside timed code.
"""

SHADES = " .:-=+*#%@"  # darkest last; one character per pixel


def history_chart(history, width=60, height=12):
    """The talk's ASCII chart: ``@`` accuracy (0-100 %), ``#`` cost.

    Accuracy is drawn on a fixed 0..100 % scale, cost on 0..its maximum.
    The points are averaged into *width* columns.
    """
    if not history:
        return "(no history: monitoring was off)"
    columns = _buckets(history, width)
    top_cost = max(cost for _, cost in columns) or 1.0
    grid = [[" "] * len(columns) for _ in range(height)]
    for x, (acc, cost) in enumerate(columns):
        cost_row = _row(cost / top_cost, height)
        acc_row = _row(acc / 100.0, height)
        grid[cost_row][x] = "#"
        grid[acc_row][x] = "@"
    lines = []
    for y, row in enumerate(grid):
        level = 100 * (height - 1 - y) // (height - 1)
        lines.append(f"{level:3d}% |" + "".join(row))
    lines.append("     +" + "-" * len(columns))
    last = history[-1]
    lines.append(
        f"      @ accuracy (%)   # cost (0..{top_cost:.4f})   "
        f"{len(history)} points, {last['step']} steps per epoch"
    )
    return "\n".join(lines)


def _buckets(history, width):
    count = min(width, len(history))
    columns = []
    for x in range(count):
        part = history[x * len(history) // count:
                       (x + 1) * len(history) // count]
        columns.append((sum(p["accuracy"] for p in part) / len(part),
                        sum(p["cost"] for p in part) / len(part)))
    return columns


def _row(fraction, height):
    fraction = min(max(fraction, 0.0), 1.0)
    return height - 1 - round(fraction * (height - 1))


def digit(pixels, cols):
    """One image (bytes 0..255, row-major) as rows of shade characters."""
    rows = []
    for start in range(0, len(pixels), cols):
        row = pixels[start:start + cols]
        rows.append("".join(SHADES[b * (len(SHADES) - 1) // 255]
                            for b in row))
    return rows


def digits_side_by_side(images, captions, cols, gap=3):
    """Several digits in a row, each with its caption underneath."""
    drawn = [digit(pixels, cols) for pixels in images]
    inked = [y for y in range(len(drawn[0]))
             if any(d[y].strip() for d in drawn)]
    if inked:
        drawn = [d[inked[0]:inked[-1] + 1] for d in drawn]
    width = max(cols, max(len(c) for c in captions))
    lines = []
    for y in range(len(drawn[0])):
        lines.append((" " * gap).join(d[y].ljust(width) for d in drawn))
    lines.append((" " * gap).join(c.ljust(width) for c in captions))
    return "\n".join(line.rstrip() for line in lines)


def most_confused(matrix, count=5):
    """The *count* largest off-diagonal cells: (label, prediction, n)."""
    pairs = [(matrix[label][guess], label, guess)
             for label in range(len(matrix))
             for guess in range(len(matrix))
             if label != guess and matrix[label][guess]]
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [(label, guess, n) for n, label, guess in pairs[:count]]


def confusion_rows(matrix):
    """Header and rows of the confusion table, as lists of strings."""
    size = len(matrix)
    header = ["label \\ predicted"] + [str(k) for k in range(size)] + [
        "recall (%)"]
    rows = []
    for label, counts in enumerate(matrix):
        total = sum(counts)
        recall = 100.0 * counts[label] / total if total else 0.0
        rows.append([str(label)] + [str(n) for n in counts]
                    + [f"{recall:.1f}"])
    return header, rows


def plain_table(header, rows):
    """A fixed-width text table, columns right-aligned but the first."""
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]

    def line(cells):
        first = str(cells[0]).ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first] + rest)

    return "\n".join([line(header), "  ".join("-" * w for w in widths)]
                     + [line(r) for r in rows])
