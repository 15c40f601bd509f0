"""Tables wider than the page say so and keep their first column (issue #18: tables looked cut off)."""
import pandas as pd
from streamlit.testing.v1 import AppTest

from pages.ui.export import FIT_PX, table_width_px


def test_width_estimate_grows_with_columns_and_text():
    narrow = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    wide = pd.DataFrame({f"column {i} with a long name": ["a fairly long cell value"] for i in range(8)})
    assert table_width_px(narrow) < FIT_PX < table_width_px(wide)
    assert table_width_px(pd.DataFrame({"x": ["y" * 10_000]})) == 500       # one column is clamped like the grid


def _script():
    import pandas as pd

    from pages.ui.export import show_table
    show_table(pd.DataFrame({"a": [1], "b": [2]}), "narrow")
    show_table(pd.DataFrame({f"column {i} with a long name": ["a fairly long cell value"] for i in range(8)}), "wide")


def test_only_the_wide_table_gets_the_scroll_note():
    at = AppTest.from_function(_script).run()
    notes = [c.value for c in at.caption if "scroll the table sideways" in c.value]
    assert len(notes) == 1 and notes[0].startswith("↔ 8 columns")
