"""Links that carry the view: a long pasted text travels compressed in the URL up to a stated cap,
and beyond the cap the page says the link will open the default, never silently."""
import random

from pages.ui import state
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

LEE_LIKE = ("The Australian government said on Tuesday that the bushfires near Sydney had been contained, "
            "while firefighters warned that strong winds could change that within hours. ") * 40


def test_pack_round_trips_and_states_its_cap():
    assert state.pack_text("short") == "short"
    packed = state.pack_text(LEE_LIKE)
    assert packed.startswith(state.ZIP) and len(packed) < len(LEE_LIKE) / 5
    assert state.unpack_text(packed) == LEE_LIKE
    assert state.unpack_text(state.pack_text("z1.not really")) == "z1.not really"   # the prefix is escaped
    rng = random.Random(0)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(6000))      # does not compress
    assert state.pack_text(noise) is None


def test_a_damaged_link_says_so():
    try:
        state.unpack_text("z1.@@@@")
    except ValueError as exc:
        assert "damaged" in str(exc)
    else:
        raise AssertionError("a damaged value was accepted")


def test_tokenization_page_opens_a_long_text_from_its_link():
    at = run_page(by_url("tokenization"), {"text": state.pack_text(LEE_LIKE)})
    assert problems(at) == []
    assert at.text_area[0].value == LEE_LIKE
    assert any("carried compressed in the link" in c.value for c in at.caption)


def test_too_long_for_a_link_is_said_on_the_page():
    rng = random.Random(1)
    noise = " ".join("".join(chr(rng.randrange(97, 123)) for _ in range(6)) for _ in range(2500))
    assert state.pack_text(noise) is None
    at = run_page(by_url("tokenization"))
    at.text_area[0].set_value(noise).run()
    assert problems(at) == []
    assert any("too long for a link" in c.value and "default text" in c.value for c in at.caption)
    assert "text" not in at.query_params
