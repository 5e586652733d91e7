"""`ferbench train | name | predict`: build a recogniser, name its clusters, run it on new faces."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from ferbench.cli.data import DATA_ENV, add_sample_options, split_settings
from ferbench.cli.terminal import console, errors, note, warn
from ferbench.errors import FerbenchError
from ferbench.files import check_writable, make_folder, write_atomically
from ferbench.recogniser import FIT_ON

if TYPE_CHECKING:
    import pandas as pd

    from ferbench.recogniser.inputs import FaceCrop
    from ferbench.recogniser.model import Recogniser

# Each command imports the recogniser's modules when it runs: `predict` needs neither training nor naming.

MODEL_SUFFIX = ".fbm"
TRUST_HELP = "load types the model file holds that are neither ferbench's nor scikit-learn's (only for files you trust)"
EXIT_FAILED_INPUTS = 1
OUTPUTS = (".csv", ".json")


def add_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    trains = commands.add_parser(
        "train",
        parents=[common],
        help="fit one pipeline without labels and save it as a model file",
        description="Fit one extractor -> clusterer -> classifier exactly as `ferbench run` fits it for one seed "
        "(same sample, split and options), name its clusters with the train-fitted map, and save the fitted "
        f"pipeline, its scores and each cluster's nearest faces in one file (suggested suffix {MODEL_SUFFIX}).",
        epilog="examples:\n  ferbench train -e landmarks-hog -c gmm -k logreg --data fer2013.csv.gz --model fer.fbm\n"
        "  ferbench train --from results --model fer.fbm     # the run's validation-selected pipeline",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = trains.add_argument_group("which pipeline")
    which.add_argument("-e", "--extractor", metavar="SPEC", help="feature extractor (a plugin name or spec)")
    which.add_argument("-c", "--clusterer", metavar="SPEC", help="clusterer")
    which.add_argument("-k", "--classifier", metavar="SPEC", help="classifier")
    which.add_argument(
        "--from",
        dest="from_run",
        metavar="RESULTS_DIR",
        help="train the validation-selected pipeline of this stored run, with its data and settings",
    )
    which.add_argument(
        "--examples",
        metavar="DIR",
        help="train from these labelled faces (a folder per emotion) and the unlabelled training faces, the "
        "way the label-budget track measured best for their number (-e only; default extractor landmarks-hog)",
    )
    add_sample_options(trains.add_argument_group("data"))
    how = trains.add_argument_group("training")
    how.add_argument("--model", required=True, metavar="FILE", help="where to save the model")
    how.add_argument(
        "--seed", type=int, default=None, metavar="N", help="the seed to fit (default 0; with --from: the run's first)"
    )
    how.add_argument(
        "--fit-on", choices=list(FIT_ON), default="train", help="; ".join(f"{k}: {v}" for k, v in FIT_ON.items())
    )
    how.add_argument("--clusters", type=int, metavar="K", help="groups to look for (default: the emotions in use)")
    how.add_argument("--threads", type=int, default=1, metavar="T", help="BLAS/torch threads (default 1)")
    how.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where torch plugins train")
    how.add_argument("--quick", action="store_true", help="short training budgets for torch plugins")

    names = commands.add_parser(
        "name",
        parents=[common],
        help="name a model's clusters: at a prompt, with --names, or from a few labelled --examples",
        description="A classifier trained on clusters predicts clusters; this says which emotion each one is. "
        "Without options it writes a page of each cluster's nearest faces and asks a name per cluster.",
        epilog="examples:\n  ferbench name fer.fbm --names 0=happy,1=surprise,2=unknown\n"
        "  ferbench name fer.fbm --examples few-faces/     # a folder per emotion",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names.add_argument("model", metavar="MODEL")
    given = names.add_mutually_exclusive_group()
    given.add_argument("--names", metavar="C=EMOTION,...", help="name clusters without prompts (others: unknown)")
    given.add_argument("--examples", metavar="DIR", help="name clusters from labelled faces, a folder per emotion")
    names.add_argument("--page", metavar="FILE", help="where to write the faces page (default: beside the model)")
    names.add_argument("--output", metavar="FILE", help="save the named model here (default: over MODEL)")
    names.add_argument("--trust", action="store_true", help=TRUST_HELP)

    predicts = commands.add_parser(
        "predict",
        parents=[common],
        help="recognise emotions in photos, folders, FER2013 CSVs and videos",
        description="Find the faces in each input (a 48x48 image is a face crop as it is), crop them to 48x48 grey "
        "as at training, and name each one's emotion. An input that cannot be read is one line; the others "
        "go on (exit 1 if any failed).",
        epilog="examples:\n  ferbench predict fer.fbm photo.jpg holiday/ clip.mp4 --output emotions.csv\n"
        "  ferbench predict fer.fbm faces.csv --no-detect --annotate annotated/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predicts.add_argument("model", metavar="MODEL")
    predicts.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, CSV files, videos")
    predicts.add_argument("--every", type=float, default=1.0, metavar="SECONDS", help="video frame step (default 1)")
    predicts.add_argument("--no-detect", action="store_true", help="treat every image as a face crop")
    predicts.add_argument("--output", metavar="FILE", help="write one row per face to FILE.csv or FILE.json")
    predicts.add_argument("--annotate", metavar="DIR", help="write copies of the pictures with boxes and emotions")
    predicts.add_argument("--trust", action="store_true", help=TRUST_HELP)


def command_train(args: argparse.Namespace) -> int:
    from ferbench.recogniser.bundle import save_model
    from ferbench.recogniser.training import Pairing, train, train_selected

    named = (args.extractor, args.clusterer, args.classifier)
    data = args.data or os.environ.get(DATA_ENV) or None
    _check_model_path(Path(args.model), "--model")  # before the fit, which may take minutes
    if args.examples:
        recogniser = _train_from_examples(args, data)
    elif args.from_run:
        if any(named):
            raise FerbenchError("--from trains the run's selected pipeline: leave out -e, -c and -k")
        recogniser = train_selected(args.from_run, data=args.data, seed=args.seed, fit_on=args.fit_on, warn=warn)
    else:
        if not all(named):
            raise FerbenchError("train needs one pipeline: -e EXTRACTOR -c CLUSTERER -k CLASSIFIER (or --from DIR)")
        if data is None:
            warn("no data given: training on generated synthetic faces, NOT FER2013")
        recogniser = train(Pairing(*named), clusters=args.clusters, fit_on=args.fit_on, **_training(args, data))
    path = save_model(recogniser, args.model)
    console.print(describe(recogniser, path))
    return 0


def _training(args: argparse.Namespace, data: str | None) -> dict[str, Any]:
    """The options every way of training takes from the command line: data, split, seed, plugins, compute."""
    return dict(
        data=data,
        labels=args.labels,
        ferplus=args.ferplus,
        split=split_settings(args),
        seed=0 if args.seed is None else args.seed,
        plugins=args.plugin,
        threads=args.threads,
        device=args.device,
        quick=args.quick,
        warn=warn,
    )


def _what_labels_buy(per_class: int, folder: str) -> str:
    """The label-budget track's figures for these labels: naming clusters, or training on them."""
    from ferbench.recogniser.budget_figures import expectation

    if per_class < 1:
        return "some emotion has no example: `ferbench train --examples` needs at least one face of each"
    expected = expectation(per_class)
    return (
        f"with {per_class}+ labelled faces per emotion, the label-budget track measured {expected.naming_acc:.1f}% "
        f"test ACC on FER2013 for naming clusters, {expected.test_acc:.1f}% for training on them "
        f"({expected.method}): `ferbench train --examples {folder} --model FILE`"
    )


def _train_from_examples(args: argparse.Namespace, data: str | None) -> Recogniser:
    from ferbench.recogniser.budget_figures import FEATURES
    from ferbench.recogniser.few_labels import train_from_examples

    if args.clusterer or args.classifier or args.from_run or args.clusters or args.fit_on != "train":
        raise FerbenchError(
            "--examples trains with the method the label-budget track measured best: "
            "leave out -c, -k, --from, --clusters and --fit-on"
        )
    if data is None:
        warn("no data given: the unlabelled faces are generated synthetic faces, NOT FER2013")
    recogniser = train_from_examples(args.examples, extractor=args.extractor or FEATURES, **_training(args, data))
    spent = recogniser.manifest["label_budget"]
    note(
        f"{spent['labels_used']} labels ({spent['labels_per_class']}+ per emotion): trained with {spent['method']}, "
        f"measured at {spent['measured_at']} per emotion: {spent['expected_test_acc']:.1f}% test ACC on FER2013 "
        f"(naming a pipeline's clusters with them: {spent['expected_if_naming_clusters']:.1f}%)"
    )
    return recogniser


def describe(recogniser: Recogniser, path: Path) -> Table:
    """What a model is: pipeline, data, scores, and the name of each cluster ("?" for what a
    model built in Python did not record)."""
    from ferbench.recogniser.manifest import recorded

    manifest = recogniser.manifest
    table = Table(title=f"ferbench model: {escape(str(path))} ({path.stat().st_size / 1e6:.1f} MB)", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    kinds = (
        ("extractor", "learner")
        if "learner" in manifest.get("plugins", {})
        else ("extractor", "clusterer", "classifier")
    )
    table.add_row(
        "pipeline", escape(" → ".join(recorded(manifest, "plugins", kind, "name", default="?") for kind in kinds))
    )
    if recorded(manifest, "dataset", "synthetic", default=False):
        name = "generated synthetic faces, NOT FER2013"
    else:
        name = recorded(manifest, "dataset", "name", default="?")
    table.add_row("data", escape(f"{name}, fingerprint {recorded(manifest, 'dataset', 'fingerprint', default='?')}"))
    faces, seed, fit_on = (recorded(manifest, "training", key, default="?") for key in ("faces", "seed", "fit_on"))
    faces = f"{faces:,}" if isinstance(faces, int) else faces
    table.add_row("fitted on", escape(f"{faces} faces, seed {seed} ({fit_on})"))
    scores = manifest.get("scores") or {}
    if {"val_acc", "test_acc"} <= set(scores):
        held_out = f"val ACC {100 * scores['val_acc']:.1f}%, test ACC {100 * scores['test_acc']:.1f}%"
        on_train = f" (cluster ACC {100 * scores['cluster_acc']:.1f}% on train)" if "cluster_acc" in scores else ""
        table.add_row("scores", held_out + on_train)
    else:
        table.add_row("scores", "none held out (--fit-on all)" if fit_on == "all" else "none recorded")
    table.add_row("naming", escape(recorded(manifest, "naming", "summary", default="not recorded")))
    table.add_row("clusters", escape(", ".join(f"{c}={recogniser.names[c]}" for c in recogniser.clusters)))
    return table


def command_name(args: argparse.Namespace) -> int:
    from ferbench.recogniser import naming
    from ferbench.recogniser.bundle import load_model, save_model

    recogniser = load_model(args.model, trusted=True if args.trust else None, plugins=args.plugin)
    _check_model_path(Path(args.output or args.model), "--output" if args.output else "MODEL")
    if args.names:
        recogniser = naming.by_person(recogniser, naming.parse_names(args.names, recogniser))
    elif args.examples:
        recogniser, warnings = naming.by_example_folder(recogniser, args.examples)
        for warning in warnings:
            warn(warning)
        note(_what_labels_buy(recogniser.manifest["naming"]["labels_per_class"], args.examples))
    else:
        page = naming.write_cluster_page(recogniser, args.page or Path(args.model).with_suffix(".clusters.html"))
        note(f"each cluster's nearest faces: {page}")
        if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():  # None: started with stdin closed
            raise FerbenchError("naming at a prompt needs a terminal: pass --names C=EMOTION,... or --examples DIR")
        try:
            names = naming.ask_names(recogniser, input, lambda message: errors.print(escape(message), highlight=False))
        except EOFError:  # Ctrl-D
            raise FerbenchError(
                f"no names given (input ended at the prompt); {args.model} is unchanged: run `ferbench name` again, "
                "or pass --names C=EMOTION,..."
            ) from None
        recogniser = naming.by_person(recogniser, names)
    path = save_model(recogniser, args.output or args.model)
    console.print(describe(recogniser, path))
    return 0


def command_predict(args: argparse.Namespace) -> int:
    if not (args.every > 0 and math.isfinite(args.every)):
        raise FerbenchError(f"--every must be a positive number of seconds, got {args.every:g}")
    if args.output and Path(args.output).suffix.lower() not in OUTPUTS:
        raise FerbenchError(f"--output {args.output}: choose a .csv or .json file")
    if args.annotate and Path(args.annotate).exists() and not Path(args.annotate).is_dir():
        raise FerbenchError(f"--annotate {args.annotate}: is a file; name a folder for the annotated pictures")
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ferbench.recogniser.bundle import load_model

    recogniser = load_model(args.model, trusted=True if args.trust else None, plugins=args.plugin, numpy_only=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=errors, transient=True) as bar:
        reading = bar.add_task("reading inputs")
        predicted = recogniser.predict_all(
            args.inputs,
            detect=not args.no_detect,
            every=args.every,
            progress=lambda what: bar.update(reading, description=f"reading {escape(what)}"),
        )
    for failure in predicted.failures:
        errors.print(f"[red]failed:[/] {escape(str(failure))}", highlight=False)
    frame = predicted.frame
    console.print(_faces_table(frame))
    if args.output:
        _write_rows(frame, Path(args.output))
        console.print(f"Rows: {args.output}", highlight=False)
    if args.annotate:
        _annotate(predicted.labelled, args.annotate)
    return EXIT_FAILED_INPUTS if predicted.failures else 0


def _annotate(labelled: list[tuple[FaceCrop, str]], folder: str) -> None:
    from ferbench.recogniser.annotate import write_annotated

    pictures = 0
    for written in write_annotated(labelled, folder):
        if isinstance(written, Path):
            pictures += 1
        else:
            errors.print(f"[red]failed:[/] {escape(str(written))}", highlight=False)
    if pictures:
        console.print(f"Annotated pictures: {folder} ({pictures})", highlight=False)
    else:
        note(
            f"--annotate {folder}: nothing to draw, so nothing written: faces read whole (48x48 images, CSV rows, "
            "--no-detect) have no box"
        )


def _check_model_path(path: Path, option: str) -> None:
    """A model file can be written at `path` (its folder is made): said now, not after the work."""
    if path.is_dir():
        raise FerbenchError(f"{option} {path}: is a folder; name a file in it, e.g. {path / 'model.fbm'}")
    existing = next(parent for parent in path.absolute().parents if parent.exists())
    if not existing.is_dir():
        raise FerbenchError(f"{option} {path}: cannot write there: {existing} is a file, not a folder")
    check_writable(path.parent, option)
    make_folder(path.parent)


def _faces_table(frame: pd.DataFrame) -> Table:
    import pandas as pd

    from ferbench.recogniser.predict import NO_FACE

    faces = int((frame["emotion"] != NO_FACE).sum())
    table = Table(
        title=f"ferbench predict: {faces} face{'s' if faces != 1 else ''} in {frame['source'].nunique()} inputs"
    )
    probabilities = [column for column in frame.columns if column.startswith("p_")]
    for header in (
        "Source",
        "Time s",
        "Face (x,y,w,h)",
        "Emotion",
        "Cluster",
        *(["Probability"] if probabilities else []),
    ):
        table.add_column(header)
    for _, row in frame.iterrows():
        cells = [escape(row["source"]), "" if pd.isna(row["frame_s"]) else f"{row['frame_s']:.1f}", row["face"]]
        cells += [escape(row["emotion"]), "" if pd.isna(row["cluster"]) else str(row["cluster"])]
        if probabilities:
            best = row[probabilities].astype(float)
            cells.append("" if best.isna().all() else f"{100 * best.max():.0f}%")
        table.add_row(*cells)
    return table


def _write_rows(frame: pd.DataFrame, path: Path) -> None:
    text = frame.to_csv(index=False) if path.suffix.lower() == ".csv" else frame.to_json(orient="records", indent=2)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)
    except OSError as error:
        raise FerbenchError(f"--output {path}: {error.strerror or error}") from error


COMMANDS = {"train": command_train, "name": command_name, "predict": command_predict}
