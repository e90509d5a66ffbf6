"""Mixpeek's retriever stages, as far as a backend here can run them.

A retriever here is one backend; Mixpeek's SDK describes a retriever as `collection_identifiers`
plus a pipeline of `stages`. Each backend reads as one stage, and a create request in the SDK's
shape maps back to a backend when its stages are ones this server can run:

- `full_text_search`: the `local` backend, the embedded engine over the one collection in
  `collection_identifiers`, searching `parameters.fields` by their words (`mode: keyword`; by
  default, the collection's text fields that the page exposes: `default_search_fields`);
- `feature_search` (Mixpeek's search over embeddings): the same, searching by meaning and by
  words (`parameters.mode`: `hybrid`, the default, or `semantic`; `parameters.semantic_ratio`,
  0.5 unless given; `parameters.fusion`: `rrf`, the default, or `dbsf`, Mixpeek's two);
- `mixpeek_retriever`: the `mixpeek` backend, a Mixpeek-compatible upstream (`parameters`:
  `base_url`, `retriever_id`, `namespace`, `api_key_secret_name`);
- `typesense_search` (this server's own): the `typesense` backend, a Typesense collection of
  the publisher's (`parameters`: `nodes`, `collection`, `query_by`, `api_key_secret_name`).

Any other stage is refused with a 422 that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import invalid
from app.schemas.retrievers import MAX_SEARCH_FIELDS

SEARCH_STAGE = "full_text_search"
MEANING_STAGE = "feature_search"
SEARCH_STAGE_ALIASES = (SEARCH_STAGE, MEANING_STAGE)
MEANING_MODES = ("hybrid", "semantic")
FUSIONS = ("rrf", "dbsf")
UPSTREAM_STAGE = "mixpeek_retriever"
TYPESENSE_STAGE = "typesense_search"
SUPPORTED_STAGES = (*SEARCH_STAGE_ALIASES, UPSTREAM_STAGE, TYPESENSE_STAGE)
_UPSTREAM_KEYS = ("base_url", "retriever_id", "namespace", "api_key_secret_name")
_TYPESENSE_KEYS = ("nodes", "collection", "query_by", "api_key_secret_name")


def stages_of(backend: dict[str, Any]) -> list[dict[str, Any]]:
    """The backend as the SDK's `StageConfigOutput` list (one stage)."""
    if backend.get("type") == "local":
        parameters: dict[str, Any] = {"fields": list(backend.get("search_fields") or [])}
        mode = backend.get("mode", "hybrid")
        if mode == "keyword":
            return [_stage(SEARCH_STAGE, "filter", parameters)]
        parameters.update(
            mode=mode,
            semantic_ratio=backend.get("semantic_ratio", 0.5),
            fusion=backend.get("fusion", "rrf"),
        )
        return [_stage(MEANING_STAGE, "filter", parameters)]
    if backend.get("type") == "typesense":
        parameters = {key: backend.get(key) for key in _TYPESENSE_KEYS}
        return [_stage(TYPESENSE_STAGE, "filter", parameters)]
    parameters = {key: backend.get(key) for key in _UPSTREAM_KEYS}
    return [_stage(UPSTREAM_STAGE, "apply", parameters)]


def public_stages(backend: dict[str, Any]) -> list[dict[str, Any]]:
    """The stages as the public may see them: an upstream's address, ids and key name are
    the owner's, so its stage carries no parameters."""
    stages = stages_of(backend)
    if backend.get("type") != "local":
        for stage in stages:
            stage["config"]["parameters"] = stage["parameters"] = {}
    return stages


def retriever_config(backend: dict[str, Any]) -> dict[str, Any]:
    """`display_config.retriever_config`, filled in when a retriever is published."""
    return {"stages": public_stages(backend), "collection_identifiers": collections_of(backend)}


def retriever_metadata(backend: dict[str, Any]) -> dict[str, Any]:
    """What the public may know of how the retriever works (`include_metadata`): never URLs
    or secret names."""
    metadata: dict[str, Any] = {
        "stages": [],
        "capabilities": {"backend": backend["type"]},
        "collections": [],
    }
    if backend["type"] == "typesense":
        metadata["capabilities"].update(full_text_search=True, prefix_search=True)
    if backend["type"] == "local":
        metadata["collections"] = [
            {"collection_name": backend["collection"], "search_fields": backend["search_fields"]}
        ]
        metadata["capabilities"].update(
            full_text_search=True,
            prefix_search=True,
            semantic_search=backend.get("mode", "hybrid") != "keyword",
        )
    return metadata


def collections_of(backend: dict[str, Any]) -> list[str]:
    return [str(backend["collection"])] if backend.get("type") == "local" else []


def _stage(stage_id: str, stage_type: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "stage_name": stage_id,
        "stage_type": stage_type,
        "config": {"stage_id": stage_id, "parameters": parameters},
        "parameters": parameters,
    }


def backend_of(
    collections: list[str] | None,
    stages: list[dict[str, Any]],
    text_fields: Callable[[str], list[str]],
) -> dict[str, Any]:
    """The backend a create request in the SDK's shape describes, or a 422 naming the part
    that no backend here can run. `text_fields(collection)` gives a collection's text fields,
    searched when the stage names none."""
    if len(stages) != 1:
        raise invalid(
            "stages",
            "exactly one stage",
            "stages: a retriever here runs one stage (full_text_search over a collection, or "
            f"mixpeek_retriever); this one has {len(stages)}.",
        )
    config = stages[0].get("config")
    if not isinstance(config, dict):
        raise invalid("stages[0].config", "an object with stage_id and parameters")
    stage_id = config.get("stage_id")
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid("stages[0].config.parameters", "an object")
    if stage_id not in SUPPORTED_STAGES:
        raise invalid(
            "stages[0].config.stage_id",
            f"one of {', '.join(SUPPORTED_STAGES)}",
            f"stages[0].config.stage_id: {str(stage_id)[:60]!r} is not a stage this server can "
            f"run; the stages are {', '.join(SUPPORTED_STAGES)}.",
        )
    if stage_id in (UPSTREAM_STAGE, TYPESENSE_STAGE):
        if collections:
            raise invalid(
                "collection_identifiers",
                f"none, for {stage_id}",
                "collection_identifiers: the upstream searches its own collections; send none.",
            )
        if stage_id == TYPESENSE_STAGE:
            return {"type": "typesense", **{key: parameters.get(key) for key in _TYPESENSE_KEYS}}
        return {"type": "mixpeek", **{key: parameters.get(key) for key in _UPSTREAM_KEYS}}
    if not collections or len(collections) != 1:
        raise invalid(
            "collection_identifiers",
            "exactly one collection of this server",
            "collection_identifiers: full_text_search runs over exactly one collection.",
        )
    how = _mode(stage_id, parameters)
    fields = parameters.get("fields") or parameters.get("search_fields")
    if not fields:
        fields = text_fields(collections[0])[:MAX_SEARCH_FIELDS]
        if not fields:
            raise invalid(
                "stages[0].config.parameters.fields",
                "the fields to search",
                f"stages[0].config.parameters.fields: the collection {collections[0]!r} has no "
                "text fields yet to search by default; name them, or add documents first.",
            )
        # Narrowed to the exposed ones when the page's exposed fields are known.
        return {
            "type": "local",
            "collection": collections[0],
            "search_fields": fields,
            "default_search_fields": True,
            **how,
        }
    return {"type": "local", "collection": collections[0], "search_fields": fields, **how}


def _mode(stage_id: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """How a search stage finds documents: by words (`full_text_search`), or by meaning and
    words (`feature_search`); a 422 naming a parameter this server cannot honour."""
    where = "stages[0].config.parameters"
    if stage_id == SEARCH_STAGE:
        return {"mode": "keyword"}
    mode = parameters.get("mode", "hybrid")
    if mode not in MEANING_MODES:
        raise invalid(f"{where}.mode", f"one of {', '.join(MEANING_MODES)}")
    fusion = parameters.get("fusion", "rrf")
    if fusion not in FUSIONS:
        raise invalid(
            f"{where}.fusion",
            " or ".join(FUSIONS),
            f"{where}.fusion: {str(fusion)[:40]!r} is not a fusion this server runs; "
            "results by meaning and by words are fused by reciprocal rank (rrf) or by "
            "normalised scores (dbsf).",
        )
    ratio = parameters.get("semantic_ratio", 0.5)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
        raise invalid(f"{where}.semantic_ratio", "a number from 0 to 1")
    return {"mode": mode, "semantic_ratio": float(ratio), "fusion": fusion}


def kept_stages(backend: dict[str, Any]) -> list[dict[str, Any]]:
    """The stages an update that sends none keeps: the current ones, with the fields that the
    server chose left out, to be chosen again."""
    stages = stages_of(backend)
    if backend.get("default_search_fields"):
        parameters = stages[0]["config"]["parameters"]
        stages[0]["config"]["parameters"] = {k: v for k, v in parameters.items() if k != "fields"}
    return stages
