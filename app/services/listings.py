"""Published retrievers as Mixpeek's marketplace catalog shows them (`MarketplaceListing`),
for the SDK's `MarketplaceApi` catalog calls.

Here every active published retriever is a listing on the free tier: there are no
subscriptions, prices or curated groups, and the page at `/r/{name}` is its live app. A
listing never names its password's secret, and behind a password it shows only what the
password page shows.
"""

from __future__ import annotations

from typing import Any

from app import urls
from app.adapters.store import PublishedRecord, Store
from app.adapters.threads import in_thread
from app.errors import NotFound, invalid
from app.schemas.listings import RetrieverListing, RetrieverListingDetail
from app.services.published_lists import find_published
from app.services.query import LOCKED_CONFIG_KEYS

MAX_LIMIT = 100
# The rate-limit tiers here, as the SDK's subscription tiers.
_TIERS = {
    "standard": "free",
    "elevated": "pro",
    "enterprise": "enterprise",
    "unlimited": "enterprise",
}


class Listings:
    def __init__(self, store: Store, public_url: str) -> None:
        self.store = store
        self.public_url = public_url

    async def listed(
        self,
        category: str | None,
        group: str | None,
        tags: list[str],
        search: str | None,
        skip: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Active listings (category, every tag, words of the title or description)."""
        if group:
            raise invalid(
                "group",
                "no group: this server has no curated groups",
                "Query parameter 'group': this server has no curated groups; leave it out.",
            )
        wanted = {tag.casefold() for tag in tags}
        words = search.casefold() if search else None
        found = await find_published(
            self.store, lambda record: _matches(record, category, wanted, words), skip, limit
        )
        return [
            RetrieverListing.model_validate(self._listing(record)).model_dump(mode="json")
            for record in found.page
        ]

    async def detail(self, public_name: str) -> dict[str, Any]:
        record = await in_thread(self._published, public_name)
        if record is None or not record.is_active:
            raise NotFound(f"No marketplace listing is named {public_name!r}.")
        detail = RetrieverListingDetail.model_validate(self._listing(record, detail=True))
        return detail.model_dump(mode="json")

    def _published(self, public_name: str) -> PublishedRecord | None:
        with self.store.read() as tx:
            return tx.get_published_by_name(public_name)

    def _listing(self, record: PublishedRecord, *, detail: bool = False) -> dict[str, Any]:
        config = record.display_config
        locked = record.password_secret_name is not None
        shown = (
            {key: value for key, value in config.items() if key in LOCKED_CONFIG_KEYS}
            if locked
            else config
        )
        tier = str((record.rate_limit_config or {}).get("tier", "free"))
        listing: dict[str, Any] = {
            "listing_id": record.public_id,
            "internal_id": record.namespace,
            "namespace_id": record.namespace,
            "retriever_id": record.retriever_id,
            "title": config.get("title") or record.public_name,
            "description": config.get("description") or record.description or "",
            "public_name": record.public_name,
            "category": record.category,
            "groups": [],
            "tags": record.tags or [],
            "logo_url": config.get("logo_url"),
            "app_url": urls.absolute(self.public_url, urls.page(record.public_name)),
            "icon_base64": config.get("icon_base64") or record.icon_base64,
            "available_tiers": [{"tier": _TIERS.get(tier, "enterprise"), "price_per_month": 0}],
            "display_config": shown,
            "password_secret_name": None,
            "password_protected": locked,
            "status": "published",
            "visibility": "listed",
            "is_active": True,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "published_at": record.created_at,
            "total_subscribers": None,
            "total_queries": None,
        }
        if detail:
            listing["input_schema"] = None if locked else _input_schema(config)
            listing["example_request"] = None if locked else _example(config)
            listing["anonymous_rate_limit"] = None
        return listing


def _matches(
    record: PublishedRecord, category: str | None, tags: set[str], search: str | None
) -> bool:
    if category and (record.category or "").casefold() != category.casefold():
        return False
    if tags and not tags <= {tag.casefold() for tag in record.tags or []}:
        return False
    if search:
        config = record.display_config
        text = f"{config.get('title', '')} {config.get('description') or ''}".casefold()
        return search in text
    return True


def _input_schema(config: dict[str, Any]) -> dict[str, Any]:
    """The execute call's `inputs` as a JSON Schema."""
    inputs = config.get("inputs") or []
    return {
        "type": "object",
        "properties": {i["field_name"]: i.get("field_schema") or {} for i in inputs},
        "required": [
            i["field_name"]
            for i in inputs
            if i.get("required") or (i.get("field_schema") or {}).get("required")
        ],
    }


def _example(config: dict[str, Any]) -> dict[str, Any] | None:
    """A request built from the inputs' own examples, or none when they give none."""
    inputs: dict[str, Any] = {}
    for entry in config.get("inputs") or []:
        schema = entry.get("field_schema") or {}
        examples = schema.get("examples") or entry.get("suggestions") or []
        if examples:
            inputs[entry["field_name"]] = examples[0]
    return {"inputs": inputs} if inputs else None
