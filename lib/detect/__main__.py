"""``python -m lib.detect score FILE.csv > out.csv``: score anyone's ``timestamp,value`` data.

Writes ``timestamp,value,anomaly_score``, one row per input row in input order, each score
computed from that row and the rows before it only, with the product's detector and its default
configuration. Untidy rows (a clock stepping back or repeating, gaps, empty or non-numeric
values) are still scored and named on stderr by their line (``lib.detect.csvio``); a row with no
readable value or time scores 0 and teaches the detector nothing. Only a file that is not
``timestamp,value`` text, or cannot be read, or a ``--param`` that is not a valid detector
parameter, exits with code 2.

``--param NAME=VALUE`` (repeatable) changes one of the detector's hyperparameters
(``lib.detect.params.Params``) for this run, e.g. ``--param envelope_half_life=4000``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields

from lib.detect.csvio import Notice, format_rows, parse_series
from lib.detect.params import Direction, Params, SeriesConfig, with_overrides
from lib.detect.rows import score_series
from lib.errors import ValidationError

EXIT_BAD_INPUT = 2
NOTICES_PER_KIND = 10
"""Lines named per kind of notice; the rest are counted."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib.detect", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a timestamp,value CSV file (- for stdin)")
    score.add_argument("file", help="CSV file with the header timestamp,value")
    score.add_argument(
        "--direction",
        choices=[str(d.name).lower() for d in Direction],
        default="both",
        help="which departures are anomalous (default: both)",
    )
    for name in ("warn-above", "crit-above", "warn-below", "crit-below"):
        score.add_argument(f"--{name}", type=float, default=math.nan, help="absolute floor")
    score.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one detector hyperparameter for this run (repeatable): "
        + ", ".join(f.name for f in fields(Params)),
    )
    return parser


def _text(raw_lines: Iterable[bytes]) -> Iterator[str]:
    for line, raw in enumerate(raw_lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"line {line}: not UTF-8 text", line=line) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        params = with_overrides(args.param)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    name = "<stdin>" if args.file == "-" else args.file
    try:
        if args.file == "-":
            series = parse_series(_text(sys.stdin.buffer))
        else:
            with open(args.file, "rb") as handle:
                series = parse_series(_text(handle))
    except OSError as exc:
        print(f"error: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:
        print(f"error: {name}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    config = SeriesConfig(
        direction=Direction[args.direction.upper()],
        warn_above=args.warn_above,
        crit_above=args.crit_above,
        warn_below=args.warn_below,
        crit_below=args.crit_below,
    )
    _warn(name, series.notices)
    scores = score_series(series, config, params)
    sys.stdout.write("\n".join(format_rows(series, scores)) + "\n")
    return 0


def _warn(name: str, notices: list[Notice]) -> None:
    shown: Counter[str] = Counter()
    for notice in notices:
        shown[notice.kind] += 1
        if shown[notice.kind] <= NOTICES_PER_KIND:
            print(f"warning: {name}: line {notice.line}: {notice.message}", file=sys.stderr)
    for kind, count in sorted(shown.items()):
        if count > NOTICES_PER_KIND:
            print(
                f"warning: {name}: {count - NOTICES_PER_KIND} more lines like these ({kind})",
                file=sys.stderr,
            )


if __name__ == "__main__":
    sys.exit(main())
