"""Specs as users type them after -e/-c/-k: parsed, canonical, swept, and rebuilt from the name."""

from __future__ import annotations

import pytest

from ferbench.errors import FerbenchError
from ferbench.plugins.specs import Spec, expand, parse


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("kmeans", "kmeans"),
        ("  landmarks-hog ", "landmarks-hog"),
        ("hog()", "hog"),
        ("hog( pixels_per_cell = 6 )", "hog(pixels_per_cell=6)"),
        ("gmm(reg_covar=1e-3, covariance_type=full)", "gmm(covariance_type=full, reg_covar=0.001)"),
        ("gmm(covariance_type='full')", "gmm(covariance_type=full)"),
        ("mlp(hidden_layer_sizes=(256, 64), solver=None)", "mlp(hidden_layer_sizes=(256, 64), solver=None)"),
        ("x(word='two words', flag=True, name='None')", "x(flag=True, name='None', word='two words')"),
        ("x(shift=-2, scales={a: 1})", "x(scales={'a': 1}, shift=-2)"),
        ("sklearn.cluster:Birch(threshold=0.3)", "sklearn.cluster:Birch(threshold=0.3)"),
    ],
)
def test_canonical_text_sorts_parameters_and_reads_back_the_same(text, canonical):
    spec = parse(text)
    assert spec.text == canonical
    assert parse(spec.text) == spec


def test_bare_words_are_strings_and_numbers_stay_numbers():
    assert parse("gmm(covariance_type=full, n_init=3, tol=0.5)") == Spec(
        "gmm", (("covariance_type", "full"), ("n_init", 3), ("tol", 0.5))
    )


def test_a_list_sweeps_and_several_lists_give_every_combination():
    assert [s.text for s in expand("gmm(covariance_type=[full,diag])")] == [
        "gmm(covariance_type=full)",
        "gmm(covariance_type=diag)",
    ]
    combos = [s.text for s in expand("hog(orientations=[8, 12], pixels_per_cell=[6, 8], cells_per_block=2)")]
    assert len(combos) == 4
    assert combos[0] == "hog(cells_per_block=2, orientations=8, pixels_per_cell=6)"
    assert combos[-1] == "hog(cells_per_block=2, orientations=12, pixels_per_cell=8)"


def test_module_class_specs_are_importable():
    assert parse("sklearn.cluster:Birch").importable
    assert not parse("kmeans(n_init=1)").importable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kmeans(3)", "'kmeans(3)': every parameter needs a name"),
        ("kmeans(n_init=1", "'kmeans(n_init=1' is not a plugin name: write NAME or NAME(param=value, ...)"),
        ("(n_init=1)", "is not a plugin name"),
        ("kmeans(n_init=1, n_init=2)", "'kmeans(n_init=1, n_init=2)': n_init given twice"),
        ("kmeans(n_init=1,,)", "cannot read the parameters of 'kmeans(n_init=1,,)'"),
        ("kmeans(n_init=a-b)", "'kmeans(n_init=a-b)': bad value for n_init: a - b (values are Python literals"),
        ("kmeans(n_init=print(1))", "bad value for n_init: print(1)"),
        ("kmeans(n_init=[])", "'kmeans(n_init=[])': the sweep of n_init is empty"),
        (
            "gmm(covariance_type=[full,diag])",
            "'gmm(covariance_type=[full,diag])' is a sweep of 2 settings; name one of them, "
            "e.g. 'gmm(covariance_type=full)'",
        ),
    ],
)
def test_mistakes_are_one_clear_line(text, message):
    with pytest.raises(FerbenchError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_composite_names_its_parts_in_order_and_reads_back_the_same():
    spec = parse(" concat( hog( pixels_per_cell = 6 ) ,sklearn.decomposition:PCA(n_components=3), landmarks-hog )")
    assert spec.text == "concat(hog(pixels_per_cell=6), sklearn.decomposition:PCA(n_components=3), landmarks-hog)"
    assert spec.parts == (
        parse("hog(pixels_per_cell=6)"),
        parse("sklearn.decomposition:PCA(n_components=3)"),
        Spec("landmarks-hog"),
    )
    assert parse(spec.text) == spec and not spec.importable
    assert parse("concat(x(word='a, (b'), y)").parts[0].params == (("word", "a, (b"),)  # a comma in a string stays
    assert parse("concat(concat(raw, hog), lbp)").parts[0].text == "concat(raw, hog)"


def test_a_sweep_inside_a_part_sweeps_the_composite():
    assert [s.text for s in expand("concat(hog(pixels_per_cell=[6, 8]), lbp(radius=[1, 2]))")] == [
        "concat(hog(pixels_per_cell=6), lbp(radius=1))",
        "concat(hog(pixels_per_cell=6), lbp(radius=2))",
        "concat(hog(pixels_per_cell=8), lbp(radius=1))",
        "concat(hog(pixels_per_cell=8), lbp(radius=2))",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("concat", "'concat': name the plugins concat joins: write concat(EXTRACTOR, EXTRACTOR, ...)"),
        ("concat( )", "'concat( )': name the plugins concat joins"),
        ("concat(hog, pixels_per_cell=6)", "'concat(hog, pixels_per_cell=6)': concat takes plugins, not parameters"),
        ("concat(hog, , lbp)", "'concat(hog, , lbp)': an empty part"),
        ("concat(hog, kmeans(3))", "'kmeans(3)': every parameter needs a name"),
    ],
)
def test_composite_mistakes_are_one_clear_line(text, message):
    with pytest.raises(FerbenchError) as caught:
        expand(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bare_path_or_model_id_is_a_string():
    spec = parse("timm:vit_small_patch16_224(checkpoint=/w/vit.safetensors, pool=mean, name=~/a/b, text='x, y/z')")
    assert dict(spec.params) == {"checkpoint": "/w/vit.safetensors", "pool": "mean", "name": "~/a/b", "text": "x, y/z"}
    assert (
        spec.text
        == "timm:vit_small_patch16_224(checkpoint='/w/vit.safetensors', name='~/a/b', pool=mean, text='x, y/z')"
    )
    assert parse(spec.text) == spec
    assert [s.params for s in expand("x(p=[./a/w.pt, b/w.pt])")] == [(("p", "./a/w.pt"),), (("p", "b/w.pt"),)]
    assert parse("hf:facebook/dinov2-small").base == "hf:facebook/dinov2-small"
