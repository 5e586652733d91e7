"""The torch side of `ferbench_plugins.deep`: sessions, augmentations, networks, one training
loop, and the scikit-learn style estimators built on them, one module each.

Imported only when a deep plugin is built, so listing plugins never imports torch. Every
estimator fits and predicts inside `session.torch_session`, which seeds torch, asks for
deterministic kernels and limits the threads, then restores the caller's global torch state.
"""
