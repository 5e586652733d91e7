"""Load image folders: root/<emotion>/*.png, or root/<split>/<emotion>/*.png.

That is the layout of FER2013's image release and of CK+48 (anger, contempt, disgust, fear,
happy, sadness, surprise: no neutral). The emotions are the folders found, in the order of
ferbench.data.emotions.EMOTIONS; an emotion without a folder is simply not in the data set.
Folder names are matched case-insensitively, ignoring spaces, "_" and "-". Split folders map to
FER2013's usages: train/training -> Training; val/valid/validation/publictest -> PublicTest;
test/privatetest -> PrivateTest (the Kaggle image release's "test" holds both public and private
test faces; ferbench treats it as the held-out test). A folder that names no known emotion or
split is skipped with a warning, never merged into a class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ferbench.data.dataset import IMAGE_SIDE, USAGES, Dataset
from ferbench.data.emotions import EMOTIONS, canonical_emotion, in_canonical_order, name_key
from ferbench.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")

_SPLIT_NAMES = {
    "Training": ("train", "training"),
    "PublicTest": ("val", "valid", "validation", "publictest"),
    "PrivateTest": ("test", "privatetest"),
}
_SPLIT_IDS = {name: USAGES.index(usage) for usage, names in _SPLIT_NAMES.items() for name in names}


def load_image_folders(root: str | Path) -> tuple[Dataset, list[str]]:
    """All images under root's emotion folders, as 48x48 grayscale, with human-readable
    warnings about what was skipped, converted or resized (so nothing changes silently)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a directory")
    warnings: list[str] = []
    files, labels, usage = _image_files(root, warnings)
    if not files:
        layout = "<emotion>/*.png or <train|test>/<emotion>/*.png"
        raise DataError(root, f"no images found: expected folders laid out as {layout}")
    pixels = _read_images(files, warnings)
    name = "FER2013" if root.name.lower().startswith("fer2013") else root.name
    emotions = in_canonical_order(set(labels))
    ids = np.array([emotions.index(label) for label in labels], np.int8)
    dataset = Dataset(
        pixels,
        ids,
        np.array(usage, np.int8),
        name=name,
        source=str(root),
        emotions=emotions,
        label_source="folder names",
    )
    return dataset, warnings


def _image_files(root: Path, warnings: list[str]) -> tuple[list[Path], list[str], list[int]]:
    """Every image file in the emotion folders, with its emotion name and usage id."""
    files: list[Path] = []
    labels: list[str] = []
    usage: list[int] = []
    ignored: list[Path] = []
    for folder, emotion, split in _emotion_folders(root, warnings):
        images = []
        for entry in sorted(entry for entry in folder.iterdir() if not entry.name.startswith(".")):
            is_image = entry.suffix.lower() in IMAGE_SUFFIXES and entry.is_file()
            (images if is_image else ignored).append(entry)
        files += images
        labels += [emotion] * len(images)
        usage += [split] * len(images)
    if ignored:
        kinds = "/".join(IMAGE_SUFFIXES)
        warnings.append(f"ignored {len(ignored)} entries that are not {kinds} images (e.g. {ignored[0]})")
    return files, labels, usage


def _read_images(files: list[Path], warnings: list[str]) -> np.ndarray:
    """uint8 [n, 48, 48] pixels, counting the images that had to be converted or resized."""
    pixels = np.empty((len(files), IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    converted: list[Path] = []
    resized: list[tuple[Path, tuple[int, int]]] = []
    for index, path in enumerate(files):
        pixels[index], mode, size = _read_image(path)
        if mode != "L":
            converted.append(path)
        if size != (IMAGE_SIDE, IMAGE_SIDE):
            resized.append((path, size))
    if converted:
        example = converted[0]
        warnings.append(f"converted {len(converted)} non-grayscale images to grayscale (e.g. {example})")
    if resized:
        (path, (width, height)) = resized[0]
        warnings.append(f"resized {len(resized)} images to 48x48 (e.g. {path}, {width}x{height})")
    return pixels


def _subfolders(folder: Path) -> list[Path]:
    entries = (entry for entry in folder.iterdir() if not entry.name.startswith("."))
    return sorted(entry for entry in entries if entry.is_dir())


def _emotion_folders(root: Path, warnings: list[str]) -> list[tuple[Path, str, int]]:
    """(folder, emotion name, usage id or -1) for each emotion folder, in usage then emotion order."""
    folders = _subfolders(root)
    splits = [folder for folder in folders if name_key(folder.name) in _SPLIT_IDS]
    if not splits:
        found = [(folder, -1) for folder in folders]
    else:
        stray = [folder.name for folder in folders if canonical_emotion(folder.name)]
        if stray:
            raise DataError(
                root,
                f"mixes split folders ({', '.join(f.name for f in splits)}) with emotion folders "
                f"({', '.join(stray)}): put every emotion folder inside a split, or use no splits",
            )
        for folder in folders:
            if folder not in splits:
                warnings.append(f"skipped folder {folder}: not a split (train, val, test, ...)")
        found = [(sub, _SPLIT_IDS[name_key(split.name)]) for split in splits for sub in _subfolders(split)]
    groups = []
    for folder, split in found:
        emotion = canonical_emotion(folder.name)
        if emotion is None:
            known = ", ".join(EMOTIONS)
            warnings.append(f"skipped folder {folder}: its name is not an emotion ({known})")
        else:
            groups.append((folder, emotion, split))
    return sorted(groups, key=lambda group: (group[2], EMOTIONS.index(group[1]), group[0].name))


def _read_image(path: Path) -> tuple[np.ndarray, str, tuple[int, int]]:
    """The image as 48x48 grayscale, with its original mode and size."""
    try:
        with Image.open(path) as image:
            gray = image.convert("L")
            mode, size = image.mode, image.size
    except (OSError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise DataError(path, f"cannot read image: {exc}") from None
    if size != (IMAGE_SIDE, IMAGE_SIDE):
        gray = gray.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(gray, np.uint8), mode, size
