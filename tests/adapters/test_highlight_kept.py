"""Highlights are kept by text and query: a kept answer is never another query's."""

from app.adapters.engine import highlight


def test_the_same_text_is_marked_for_each_query_and_prefix() -> None:
    text = "Library for parsing <XML> files"
    for _ in range(2):  # the second time from what was kept
        assert highlight.highlight(text, ("library",)) == (
            "<mark>Library</mark> for parsing &lt;XML&gt; files"
        )
        assert highlight.highlight(text, ("pars",)) == (
            "Library for <mark>parsing</mark> &lt;XML&gt; files"
        )
        assert highlight.highlight(text, ("pars",), prefix=False) is None
        assert highlight.highlight(text, ("rust",)) is None


def test_marks_stay_right_past_what_is_kept() -> None:
    for n in range(highlight.MARKED_KEPT + 10):
        assert highlight.highlight(f"package {n} tools", ("tools",)) == (
            f"package {n} <mark>tools</mark>"
        )
    assert len(highlight._kept) <= highlight.MARKED_KEPT
    long = "word " * highlight.MARKED_CHARS + "tools"
    assert highlight.highlight(long, ("tools",)) == "word " * highlight.MARKED_CHARS + (
        "<mark>tools</mark>"
    )
