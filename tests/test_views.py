"""Filters, --top and --by on stored runs, and several runs read together."""

import pytest

from ferbench.errors import FerbenchError
from ferbench.report.views import load_views, matched, pairings_in_order, parse_where, summarise_by
from tests.report_runs import FAILED, SCRIPT, faces_csv, write_run


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return write_run(folder / "run", faces_csv(folder))


def test_where_keeps_matching_pipelines_and_every_reference_row(stored):
    (view,) = load_views([stored], ["clusterer=kmeans", "classifier=knn,logreg"])
    assert set(view.board.clusterer) == {"kmeans"} and len(view.board) == 4
    assert set(view.board.chance_acc) == {0.14, 0.12}  # the chance floors are still found
    (view,) = load_views([stored], ["extractor=hog", "extractor=nothing"])
    assert set(view.board.extractor) == {"hog"}


def test_where_on_prior_ranks_without_outside_knowledge(stored):
    (view,) = load_views([stored], ["prior=none"])
    assert set(view.board.extractor) == {"hog"}
    assert view.picks["validation"]["extractor"] == "hog"


@pytest.mark.parametrize(
    "condition, message",
    [
        ("extractor", "--where 'extractor': expected key=value"),
        ("colour=red", "the results have no column 'colour'; filter on extractor, clusterer, classifier, prior"),
        ("extractor=sift", "no pipeline matches --where extractor=sift"),
    ],
)
def test_bad_filters_are_clear_errors(stored, condition, message):
    with pytest.raises(FerbenchError, match=message.replace("(", r"\(")):
        load_views([stored], [condition])


def test_top_keeps_the_best_and_choices_still_see_every_pairing(stored):
    (view,) = load_views([stored], top=2)
    assert view.board.test_acc_mean.tolist() == pytest.approx([0.41, 0.37])
    assert view.picks["label_free"]["extractor"] == SCRIPT  # ranked 5th by test ACC, still chosen
    with pytest.raises(FerbenchError, match="--top must be at least 1"):
        load_views([stored], top=0)


def test_by_extractor_is_the_mean_rank_among_pairings_sharing_the_rest(stored):
    (view,) = load_views([stored])
    summary = summarise_by(view.board, "extractor").set_index("extractor")
    assert summary.loc["hog", "mean_rank"] == 1.0 and summary.loc[SCRIPT, "mean_rank"] == 2.0
    assert summary.loc["hog", "test_acc_mean"] == pytest.approx((0.41 + 0.37 + 0.31 + 0.26) / 4)
    assert summary.loc[SCRIPT, "test_acc_mean"] == pytest.approx((0.31 + 0.27 + 0.21) / 3)
    assert summary.loc[SCRIPT, ["pairings", "failed"]].tolist() == [3, 1]


def test_by_classifier_where_ranks_disagree(stored):
    (view,) = load_views([stored])
    summary = summarise_by(view.board, "classifier").set_index("classifier")
    # logreg wins all four of its contexts that knn also ran in; knn loses those three
    assert summary.loc["logreg", "mean_rank"] == 1.0 and summary.loc["knn", "mean_rank"] == 2.0
    assert summary.loc["knn", "test_acc_mean"] == pytest.approx((0.37 + 0.26 + 0.27) / 3)
    with pytest.raises(FerbenchError, match="--by seed: choose one of extractor, clusterer, classifier"):
        summarise_by(view.board, "seed")


def test_several_runs_are_matched_by_pairing(stored, tmp_path):
    from tests.report_runs import result_rows

    fewer = [row for row in result_rows() if row["extractor"] == "hog" and row["clusterer"] == "kmeans"]
    other = write_run(tmp_path / "other", faces_csv(tmp_path), fewer)
    first, second = load_views([stored, other])
    order = pairings_in_order([second.board, first.board])
    assert order[:2] == [("hog", "kmeans", "logreg"), ("hog", "kmeans", "knn")] and len(order) == 8
    assert matched(second.board, FAILED) is None
    assert matched(first.board, FAILED)["error"] == "ValueError: boom"


def test_parse_where_merges_repeated_keys():
    assert parse_where(["extractor=hog", "extractor=pca,raw", "prior = none"]) == {
        "extractor": {"hog", "pca", "raw"},
        "prior": {"none"},
    }
