"""Every public URL this server hands out, built in one place.

Routes are declared in `app/web/views/`; this module is what services, rendering, templates
and the command line use to point at them, so that a path is never formatted by hand twice.
Each path segment is quoted whole (a `/`, `?`, `#` or space in a document id stays inside its
segment); a query string is kept as given or encoded from pairs. `absolute` puts a path under
the server's public base URL (the `public_url` setting) for links that leave this server.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode

SIMILAR_TO = "similar_to"  # the page's parameter naming the document whose neighbours it lists
PAGE = "page"  # the page's paging parameter (a new list starts back at the first)


def _segment(value: str) -> str:
    return quote(value, safe="")


def with_query(path: str, query: str | Sequence[tuple[str, str]] = "") -> str:
    """`path` with a query string: one already encoded, or pairs to encode (none: no `?`)."""
    encoded = query if isinstance(query, str) else urlencode(query)
    return path + ("?" + encoded if encoded else "")


def absolute(public_url: str, path: str) -> str:
    """`path` (one of this module's) under the server's public base URL."""
    return public_url.rstrip("/") + path


@lru_cache(maxsize=1024)
def page(public_name: str) -> str:
    """A published retriever's search page (kept: every card of a page links under it)."""
    return f"/r/{_segment(public_name)}"


def embed(public_name: str) -> str:
    """The search page as another site frames it."""
    return page(public_name) + "/embed"


def unlock(public_name: str) -> str:
    """Where the password form posts."""
    return page(public_name) + "/unlock"


def detail(public_name: str, document_id: str, query: str = "") -> str:
    """A result's own page; `query` is the search's, kept for the way back."""
    return with_query(f"{page(public_name)}/d/{_segment(document_id)}", query)


def similar(public_name: str, document_id: str, query: str = "") -> str:
    """The search page listing the documents like this one, with the search's query and
    filters kept (less any earlier similar-to and the page number)."""
    kept = _without_similar_to(query)
    asked = urlencode([(SIMILAR_TO, document_id)])
    return with_query(page(public_name), f"{kept}&{asked}" if kept else asked)


@lru_cache(maxsize=256)
def _without_similar_to(query: str) -> str:
    """A query string less its similar-to and page number: read once for a page's cards."""
    return urlencode(
        [
            (key, value)
            for key, value in parse_qsl(query, keep_blank_values=False)
            if key not in (SIMILAR_TO, PAGE)
        ]
    )


def is_page_target(public_name: str, target: str) -> bool:
    """Whether `target` is one of this retriever's own pages (where an unlocked form may lead
    back to): the search page with or without a query, its embed, or a detail view."""
    base = page(public_name)
    return target == base or target.startswith((base + "?", embed(public_name), base + "/d/"))


def public_config(public_name: str) -> str:
    """The public API's display config of a retriever."""
    return f"/v1/public/retrievers/{_segment(public_name)}/config"


def public_typeahead(public_name: str) -> str:
    """The public API's search-box suggestions for a retriever (the page adds `?q=`)."""
    return f"/v1/public/retrievers/{_segment(public_name)}/typeahead"


def plugins(**params: str | int | None) -> str:
    """The plugin gallery, with its search, category, tag or page (empty ones left out)."""
    kept = [(key, str(value)) for key, value in params.items() if value not in (None, "")]
    return with_query("/plugins", kept)


def plugin(public_name: str) -> str:
    """A renderer plugin's page in the gallery."""
    return f"/plugins/{_segment(public_name)}"


def plugin_icon(public_name: str) -> str:
    return plugin(public_name) + "/icon"


def plugin_frame(plugin_id: str, version: str) -> str:
    """The document a page frames for a plugin version whose body this server keeps."""
    return f"/plugins/frame/{_segment(plugin_id)}/{_segment(version)}"


# The publisher's console (app/web/views/console/): its pages, and where its forms post.
CONSOLE = "/console"


def console(part: str = "", query: str | Sequence[tuple[str, str]] = "") -> str:
    """A console page: `part` is one of its fixed paths ("sign-in", "collections", ...)."""
    return with_query(f"{CONSOLE}/{part}" if part else CONSOLE, query)


def console_collection(
    collection: str, action: str = "", query: str | Sequence[tuple[str, str]] = ""
) -> str:
    """A collection's console page (its documents), or one of its actions ("delete")."""
    path = f"{CONSOLE}/collections/{_segment(collection)}"
    return with_query(f"{path}/{action}" if action else path, query)


def console_access(retriever_id: str, query: str | Sequence[tuple[str, str]] = "") -> str:
    """A retriever's access settings in the console."""
    return with_query(f"{CONSOLE}/retrievers/{_segment(retriever_id)}/access", query)


def console_rotate_key(retriever_id: str) -> str:
    """Where the console rotates a retriever's public key (after a confirmation)."""
    return f"{CONSOLE}/retrievers/{_segment(retriever_id)}/access/rotate-key"


def console_plugin(tag: str, action: str) -> str:
    """A plugin's console action ("uninstall")."""
    return f"{CONSOLE}/plugins/{_segment(tag)}/{action}"


def console_page(page_id: str, action: str = "") -> str:
    """A page of tabs' console form, or one of its actions ("delete")."""
    path = f"{CONSOLE}/pages/{_segment(page_id)}"
    return f"{path}/{action}" if action else path


def is_console_target(target: str) -> bool:
    """Whether `target` is a console page on this server (where a console form may lead back)."""
    return (target == CONSOLE or target.startswith(CONSOLE + "/")) and "\\" not in target


def console_retriever(
    retriever_id: str, part: str = "", query: str | Sequence[tuple[str, str]] = ""
) -> str:
    """One of a retriever's console pages ("insights", "relevance", "versions"; none: its page
    editor) or where its forms post ("relevance/synonyms", "publish", ...)."""
    path = f"{CONSOLE}/retrievers/{_segment(retriever_id)}"
    return with_query(f"{path}/{part}" if part else path, query)


# Pages (`/p/{slug}`): several retrievers behind one URL, in tabs.


def tab_page(slug: str, query: str | Sequence[tuple[str, str]] = "") -> str:
    """A page of tabs, with its tab and search in the query."""
    return with_query(f"/p/{_segment(slug)}", query)


def is_tab_page_target(target: str) -> bool:
    """Whether `target` is a page of tabs on this server (where a tab's password form may lead
    back to)."""
    path = target.split("?", 1)[0]
    return path.startswith("/p/") and "//" not in path and "\\" not in target


def tab_page_embed(slug: str) -> str:
    return tab_page(slug) + "/embed"


def tab_page_frame(slug: str, section_id: str) -> str:
    """The sandboxed document of a page's custom HTML section."""
    return f"{tab_page(slug)}/frame/{_segment(section_id)}"
