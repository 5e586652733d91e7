"""A trained model's numpy-only form: each fitted step described as arrays and a few numbers,
and run again by small classes that need nothing but numpy (and what a step's own features need).

Why: a cold `ferbench predict` spent most of its time importing scikit-learn (and through it scipy
and pandas) to unpickle estimators whose prediction is a few matrix products. A model file now also
holds, where every step can be described so, its steps as `Step`s (`ferbench.inference.step`),
stored beside the fitted estimators and checked against them when the file is written. Loading
that form builds no type the file names: the file gives arrays (read without pickle) and JSON
numbers, and the code that runs them is an installed op, named in the entry-point group
`ferbench.inference` (`ferbench.inference.ops`), as third parties add theirs.
"""
