"""The recogniser: one label-free pipeline, trained, named, saved, and run on new faces."""
