"""The command-line pieces about data: `ferbench data audit`, and the data options of `run`
(validation share, de-duplication, emotion subset, FER+ labels).

Kept apart from `ferbench.cli.main` so that the data side can grow without touching the run engine.
"""

from __future__ import annotations

import argparse
import json
import os

from ferbench.cli.terminal import console, errors, print_warnings
from ferbench.data.sampling import EVERY_IMAGE, NORMALISATIONS, SampleSize, SplitSettings
from ferbench.data.sources import LABEL_CHOICES
from ferbench.errors import FerbenchError

DATA_ENV = "FERBENCH_DATA"


def emotion_list(text: str) -> tuple[str, ...]:
    """`--emotions happy,sad,neutral` as a tuple; names are checked once the data is loaded."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise argparse.ArgumentTypeError("give emotion names separated by commas, e.g. happy,sad,neutral")
    return names


def add_label_options(group: argparse._ArgumentGroup) -> None:
    """--labels and --ferplus: which labels score the run (shared by `run` and `data audit`)."""
    group.add_argument(
        "--labels",
        choices=list(LABEL_CHOICES),
        default=None,
        help="; ".join(f"{k}: {v}" for k, v in LABEL_CHOICES.items())
        + " (default fer2013, or ferplus when --ferplus is given)",
    )
    group.add_argument(
        "--ferplus",
        metavar="PATH",
        help="the FER+ vote file (fer2013new.csv): ties, 'unknown' and 'not a face' rows are dropped",
    )


def sample_size(text: str) -> SampleSize:
    """`--sample 4000` or `--sample all`; the size is checked with the other split settings."""
    if text == EVERY_IMAGE:
        return EVERY_IMAGE
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of images or {EVERY_IMAGE}, got '{text}'") from None


def add_sample_options(data: argparse._ArgumentGroup) -> None:
    """Which faces a run (or `ferbench train`) draws and how it splits them: the data options."""
    data.add_argument(
        "--data",
        metavar="PATH",
        help=f"FER2013 .csv/.csv.gz or image folder (default: ${DATA_ENV}, else synthetic faces)",
    )
    data.add_argument(
        "--per-class",
        type=int,
        default=None,
        metavar="N",
        help=f"images sampled per emotion (default {SplitSettings.per_class}, FER2013's rarest class)",
    )
    data.add_argument(
        "--sample",
        type=sample_size,
        default=None,
        metavar="N|all",
        help="draw N images at random in the data's own class mix instead of a class-balanced sample "
        f"({EVERY_IMAGE}: every image); excludes --per-class",
    )
    data.add_argument(
        "--test-size",
        type=float,
        default=None,
        metavar="F",
        help="held-out share for the stratified split (default 0.2)",
    )
    data.add_argument(
        "--split",
        choices=["stratified", "usage"],
        default=None,
        help="stratified random split, or the data's own Usage column (test rows with a pixel twin in "
        "Training are left out); either way identical images never straddle two parts",
    )
    data.add_argument(
        "--pool",
        action="store_true",
        default=None,
        help="fit extractors on every image outside the test and validation parts and their pixel twins "
        "(an unlabelled pool), not only on train",
    )
    data.add_argument(
        "--normalise",
        choices=list(NORMALISATIONS),
        default=None,
        help="; ".join(f"{k}: {v}" for k, v in NORMALISATIONS.items()) + " (default standardize)",
    )
    _add_split_options(data)


def split_settings(args: argparse.Namespace) -> SplitSettings:
    """The split settings the data options give (checked when the data is known); an option
    left out takes the settings' default."""
    if args.sample is not None and args.per_class is not None:
        raise FerbenchError(
            "--sample and --per-class exclude each other: --sample draws a random sample in the data's "
            "own class mix, --per-class a class-balanced one"
        )
    from ferbench.engine.study import Study  # at run time: the parser stays light

    return Study.of_options(vars(args)).arguments()["split"]


def _add_split_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--val-size",
        type=float,
        default=None,
        metavar="F",
        help="share of the training part held out as validation, scored only, never fitted on "
        "(default 0.2: train 64%%, validation 16%%, test 20%% of the sample; 0 for none)",
    )
    group.add_argument(
        "--dedupe",
        action="store_true",
        default=None,
        help="collapse pixel-identical images to one before sampling, and drop groups whose copies disagree "
        "on the emotion and constant images (FER2013 disgust then holds 458 faces)",
    )
    group.add_argument(
        "--emotions",
        type=emotion_list,
        default=None,
        metavar="A,B,...",
        help="use only these emotions (default: every emotion the data holds; contempt is recognised too)",
    )
    add_label_options(group)


def add_data_command(commands: argparse._SubParsersAction) -> None:
    """`ferbench data audit`."""
    data = commands.add_parser("data", help="inspect a data set: duplicates, leaks, blanks, counts")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    audit = actions.add_parser(
        "audit",
        help="count duplicates, label conflicts, cross-Usage leaks, blank images and near-duplicates",
        description="Audit a data set before benchmarking on it: rows, per-class and per-Usage counts, "
        "pixel-identical duplicate groups, groups with conflicting labels, test rows identical to "
        "training rows (cross-Usage leaks), constant images, and near-duplicates by a perceptual hash.",
    )
    audit.add_argument(
        "--data",
        metavar="PATH",
        help=f"FER2013 .csv/.csv.gz or image folder (default: ${DATA_ENV}, else synthetic faces)",
    )
    audit.add_argument("--format", choices=["table", "json"], default="table", help="how to print the audit")
    audit.add_argument("--montage", metavar="FILE.png", help="also draw a few examples of each problem into this PNG")
    audit.add_argument(
        "--near-distance",
        type=int,
        default=4,
        metavar="BITS",
        help="near-duplicates: perceptual hashes at most this many of 64 bits apart (default 4, at most 6)",
    )
    add_label_options(audit.add_argument_group("labels"))
    audit.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")


def command_data(args: argparse.Namespace) -> int:
    from ferbench.data.audit import MAX_NEAR_DISTANCE, audit_dataset, render_audit, write_montage
    from ferbench.data.sources import load_dataset

    if not 0 <= args.near_distance <= MAX_NEAR_DISTANCE:
        raise FerbenchError(f"--near-distance must be from 0 to {MAX_NEAR_DISTANCE}, got {args.near_distance}")
    dataset, warnings = load_dataset(args.data or os.environ.get(DATA_ENV) or None, args.labels, args.ferplus)
    print_warnings(warnings)
    report = audit_dataset(dataset, near_distance=args.near_distance)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(render_audit(report))
    if args.montage:
        path = write_montage(report, dataset, args.montage)
        errors.print(f"Montage of examples: {path}", highlight=False)
    return 0
