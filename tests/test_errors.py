"""One way to say an exception in one line, for every layer: result rows, plugin failures,
warnings, model files and cache entries all read the same."""

import re

from ferbench.errors import one_line


def test_an_error_is_its_type_and_its_first_line_folded_and_cut_to_fit():
    assert one_line(ValueError("bad   shape (3, 4)\n  a second line of detail")) == "ValueError: bad shape (3, 4)"
    assert one_line(ValueError()) == "ValueError"
    assert one_line(ValueError("x" * 400), limit=20) == "ValueError: xxxxx..."
    assert one_line(UserWarning("custom trouble\nsecond line")) == "UserWarning: custom trouble"


def test_a_message_written_for_the_reader_goes_without_its_type_and_a_plugin_error_with_its_place():
    assert one_line(RuntimeError("fit returned NaN"), typed=False) == "fit returned NaN"
    assert one_line(RuntimeError(), typed=False) == "RuntimeError"
    try:
        {}["missing"]
    except KeyError as error:
        assert re.fullmatch(r"KeyError: 'missing' \(test_errors\.py:\d+\)", one_line(error, located=True))
