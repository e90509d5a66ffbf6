"""The demo: a namespace, an owner key and a published retriever, made once and reused."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import anyio

from app import jsonutil
from app.errors import Conflict, NotFound
from app.paths import EXAMPLES_DIR, SAMPLE_CATALOG
from app.schemas.collections import CollectionEmbedding
from app.schemas.marketplace import PublishPluginRequest
from app.schemas.plugins import CreatePluginRequest
from app.schemas.publishing import PublishRetrieverRequest
from app.schemas.retrievers import CreateRetrieverRequest
from app.schemas.roles import Role
from app.services.importing import import_file
from app.services.keys import Owner
from app.services.wiring import Services, build_services
from app.settings import Settings

DEMO_NAMESPACE = "demo"
DEMO_PUBLIC_NAME = "product-search"
DEMO_COLLECTION = "catalog"
DEMO_EMBEDDED_FIELDS = ["title", "description"]
DEMO_KEY_FILE = "demo_owner_key"
DEMO_PLUGIN_TAG = "star-rating"
DEMO_PLUGIN_DIR = EXAMPLES_DIR / "star-rating"

# The rating drawn by the example plugin instead (a frame per card; "4.5" as text without
# script): what the plugin tests publish.
DEMO_PLUGIN_RATING: dict[str, Any] = {
    "format": "plugin",
    "format_options": {"label": "Rating", "plugin": DEMO_PLUGIN_TAG, "parameters": {"max": 5}},
}

DEMO_DISPLAY_CONFIG: dict[str, Any] = {
    "title": "Product Search",
    "description": "Search a sample catalog of products: try a word, a brand or a category.",
    "logo_url": "/static/demo/logo.svg",
    "seo": {
        "meta_title": "Product Search - retriever-pages demo",
        "meta_description": "A public search page over a sample product catalog.",
        "keywords": ["products", "search", "demo"],
        "og_image_alt": "Product Search",
        "site_name": "retriever-pages",
    },
    "theme": {
        "primary_color": "#2563EB",
        "secondary_color": "#F97316",
        "font_family": "system-ui, -apple-system, 'Segoe UI', sans-serif",
        "border_radius": "12px",
        "card_style": "elevated",
        "card_hover_effect": "lift",
    },
    "inputs": [
        {
            "field_name": "query",
            "field_schema": {"type": "string", "description": "What to look for"},
            "label": "Search products",
            "placeholder": "headphones, espresso, hiking boots...",
            "helper_text": "Words match titles, descriptions and brands; a prefix is enough.",
            "suggestions": ["wireless headphones", "espresso", "hiking", "desk lamp"],
            "required": False,
            "order": 0,
        },
        {
            "field_name": "category",
            "field_schema": {
                "type": "string",
                "enum": ["Audio", "Kitchen", "Outdoors", "Home", "Office", "Fitness"],
            },
            "input_type": "select",
            "label": "Category",
            "required": False,
            "order": 1,
        },
        {
            "field_name": "in_stock",
            "field_schema": {"type": "boolean"},
            "input_type": "checkbox",
            "label": "In stock only",
            "required": False,
            "order": 2,
        },
    ],
    "layout": {"mode": "grid", "columns": 3, "gap": "20px"},
    "exposed_fields": [
        "title",
        "description",
        "price",
        "category",
        "brand",
        "rating",
        "in_stock",
        "tags",
        "released_at",
        "url",
        "image_url",
        "specs",
    ],
    "components": {
        "show_hero": True,
        "show_search": True,
        "show_results_header": True,
        "result_layout": "grid",
        "show_filters": True,
        "result_card": {
            "layout": "vertical",
            "show_thumbnail": True,
            "thumbnail_field": "image_url",
            "thumbnail_aspect_ratio": "4/3",
            "thumbnail_fit": "cover",
            "title_field": "title",
            "show_score": False,
            "truncate_title": 60,
            "truncate_description": 140,
            "card_fields": ["description", "price", "rating", "in_stock", "brand"],
            "modal_fields": [
                "price",
                "brand",
                "category",
                "rating",
                "in_stock",
                "description",
                "tags",
                "released_at",
                "specs",
                "url",
            ],
            "show_find_similar": True,
            "card_click_action": "viewDetails",
        },
    },
    "field_config": {
        "title": {"format": "text", "format_options": {"label": "Product", "truncate_chars": 60}},
        "description": {"format": "text", "format_options": {"truncate_chars": 140}},
        "price": {
            "format": "number",
            "format_options": {"label": "Price", "decimals": 2, "prefix": "$"},
        },
        # Stars drawn by the page itself. The example plugin (examples/star-rating, installed
        # in the demo namespace) draws them too: DEMO_PLUGIN_RATING is the config for that.
        "rating": {"format": "rating", "format_options": {"label": "Rating", "decimals": 1}},
        "brand": {"format": "text", "format_options": {"label": "Brand"}},
        "in_stock": {
            "format": "boolean",
            "format_options": {
                "label": "Availability",
                "true_label": "In stock",
                "false_label": "Sold out",
            },
        },
        "tags": {"format": "array", "format_options": {"separator": " · ", "max_items": 3}},
        "released_at": {
            "format": "date",
            "format_options": {"label": "Released", "date_format": "MMM DD, YYYY"},
        },
        "url": {
            "format": "url",
            "format_options": {"label": "Details", "show_domain": True, "open_in_new_tab": True},
        },
        "image_url": {
            "format": "image",
            "format_options": {"aspect_ratio": "4/3", "object_fit": "cover", "lazy_load": True},
        },
        "specs": {"format": "object", "format_options": {"label": "Specs", "show_empty": False}},
    },
    "markdowns": [
        {
            "title": "How it works",
            "content": "This page searches a **sample catalog** by its words (BM25 ranking, "
            "typos forgiven) and by their meaning (a built-in model, offline), together."
            "\n\n- Type a word or the start of one, or say what it is for\n"
            "- Narrow by *category* or stock\n- Share the URL: the search is in it",
        },
        {
            "title": "About this demo",
            "content": "Every product here is made up for the demo. "
            "[Read the project README](https://example.com/retriever-pages).",
        },
    ],
    "custom_cta": {
        "label": "Tips",
        "markdown_content": "## Search tips\n\n1. Fewer words find more.\n"
        "2. A prefix such as `head` matches *headphones*.",
    },
    "external_links": [{"name": "Source code", "url": "https://example.com/retriever-pages"}],
    # Any page on this machine may embed the demo (see /embed.js).
    "extensions": {
        "frame_ancestors": ["http://localhost:*", "http://127.0.0.1:*"],
        "filters": ["brand", "price", "rating", "tags"],
    },
}


DEMO_RETRIEVER: dict[str, Any] = {
    "retriever_name": "product-catalog",
    "description": "Full-text search over the bundled sample catalog.",
    "input_schema": {"query": {"type": "string"}},
    "backend": {
        "type": "local",
        "collection": DEMO_COLLECTION,
        "search_fields": ["title", "description", "brand", "category", "tags"],
    },
}

DEMO_PUBLISH: dict[str, Any] = {
    "public_name": DEMO_PUBLIC_NAME,
    "display_config": DEMO_DISPLAY_CONFIG,
    "rate_limit_config": {"tier": "enterprise"},
    "tags": ["demo"],
    "category": "demo",
}


@dataclass(frozen=True)
class SeededDemo:
    namespace: str
    owner_key: str
    public_name: str
    page_url: str
    created: bool
    imported: int


def seed_demo(settings: Settings) -> SeededDemo:
    """Create the demo's key, retriever and published page unless they are already there."""
    ctx = build_services(settings)
    ctx.store.migrate()
    key_file = settings.data_dir / DEMO_KEY_FILE
    created = not key_file.exists()
    if created:
        key = ctx.keys.create_key(DEMO_NAMESPACE, "demo")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    key = key_file.read_text().strip()

    imported = 0
    if ctx.engine.count(DEMO_NAMESPACE, DEMO_COLLECTION) == 0:
        imported = import_file(ctx.engine, DEMO_NAMESPACE, DEMO_COLLECTION, SAMPLE_CATALOG).imported

    if ctx.engine.embedding(DEMO_NAMESPACE, DEMO_COLLECTION) is None:
        anyio.run(_embed, ctx)
    _seed_plugin(ctx)
    with ctx.store.read() as tx:
        existing = tx.get_published_by_name(DEMO_PUBLIC_NAME)
    if existing is None:
        retriever = ctx.retrievers.create(
            DEMO_NAMESPACE,
            CreateRetrieverRequest.model_validate_json(jsonutil.dumps(DEMO_RETRIEVER)),
        )
        publish = PublishRetrieverRequest.model_validate_json(jsonutil.dumps(DEMO_PUBLISH))
        with contextlib.suppress(Conflict):  # published meanwhile by a second demo start
            ctx.publishing.publish(DEMO_NAMESPACE, retriever.retriever_id, publish)
    ctx.engine.close()
    ctx.store.close()
    return SeededDemo(
        namespace=DEMO_NAMESPACE,
        owner_key=key,
        public_name=DEMO_PUBLIC_NAME,
        page_url=ctx.publishing.page_url(DEMO_PUBLIC_NAME),
        created=created,
        imported=imported,
    )


async def _embed(ctx: Services) -> None:
    """The catalog searched by meaning too, with the built-in model: "couch" finds sofas."""
    try:
        settings = CollectionEmbedding(fields=DEMO_EMBEDDED_FIELDS)
        await ctx.embedding.configure(DEMO_NAMESPACE, DEMO_COLLECTION, settings, background=False)
        await ctx.embedding.fill(DEMO_NAMESPACE, DEMO_COLLECTION)
    finally:
        await ctx.upstream.aclose()


def _seed_plugin(ctx: Services) -> None:
    """The example star-rating plugin, in the demo namespace and in the marketplace."""
    operator = Owner(DEMO_NAMESPACE, Role.OWNER, operator=True)
    try:
        ctx.plugins.get(operator, DEMO_PLUGIN_TAG)
        return
    except NotFound:
        pass
    plugin = CreatePluginRequest(
        tag=DEMO_PLUGIN_TAG,
        name="Star rating",
        description="Draws a rating as stars, part-filled, with the number beside it.",
        blob=(DEMO_PLUGIN_DIR / "plugin.html").read_text(),
        parameters={"max": 5},
    )
    with contextlib.suppress(Conflict):  # made meanwhile by a second demo start
        ctx.plugins.create(operator, plugin)
        listing = PublishPluginRequest(
            public_name=DEMO_PLUGIN_TAG,
            readme_markdown=(DEMO_PLUGIN_DIR / "README.md").read_text(),
            tags=["rating", "stars", "numbers"],
            category="Ratings",
            trust_tier="official",
            sample_values=[4.5, 3.2, 1],
        )
        ctx.marketplace.publish(operator, DEMO_PLUGIN_TAG, listing)
