"""Ops that run the built-in plugins' fitted steps on numpy alone (see `ferbench.inference`):
scikit-learn's scaler, PCA and logistic regression, and the HOG, landmark-geometry and
block-scaling steps of ferbench's own extractors. Each reproduces its estimator's arithmetic
operation for operation, so a model's numpy-only form predicts what its estimators predict."""
