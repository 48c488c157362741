"""``python -m lib.detect score FILE.csv > out.csv``: score anyone's ``timestamp,value`` data.

Writes ``timestamp,value,anomaly_score``, one row per input row, each score computed from that
row and the rows before it only, with the product's detector and its default configuration.
Bad input: a message naming the line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Iterator, Sequence

from lib.detect.adaptive import score_window
from lib.detect.csvio import format_rows, parse_series
from lib.detect.params import Direction, SeriesConfig, SeriesConfigs
from lib.errors import ValidationError

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib.detect", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a timestamp,value CSV file (- for stdin)")
    score.add_argument("file", help="CSV file with the header timestamp,value")
    score.add_argument(
        "--direction",
        choices=[d.name.lower() for d in Direction],
        default="both",
        help="which departures are anomalous (default: both)",
    )
    for name in ("warn-above", "crit-above", "warn-below", "crit-below"):
        score.add_argument(f"--{name}", type=float, default=math.nan, help="absolute floor")
    return parser


def _text(raw_lines: Iterable[bytes]) -> Iterator[str]:
    for line, raw in enumerate(raw_lines, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"line {line}: not UTF-8 text", line=line) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    result = score_window(
        series.values[:, None], series.timestamps, configs=SeriesConfigs.of([config])
    )
    sys.stdout.write("\n".join(format_rows(series, result.score[:, 0])) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
