"""The recogniser: one label-free pipeline, trained, named, saved, and run on new faces."""

from typing import Literal

# What `train` may fit a recogniser on (`fit_on`, the CLI's --fit-on), kept here so that the command line
# reads it without importing the training code.
FitOn = Literal["train", "all"]
FIT_ON: dict[str, str] = {
    "train": "the benchmark's training part, so the model keeps its held-out validation and test scores",
    "all": "every sampled face (more to learn from; no held-out score)",
}
