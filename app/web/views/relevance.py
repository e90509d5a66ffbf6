"""The owner API of a retriever's relevance rules: the whole set (read, replace), and one
synonym set or curation by its id (put, delete), so that a console edits one rule at a time.
A viewer reads; an editor or owner changes."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.relevance import (
    RULE_ID,
    RULE_ID_RULE,
    Curation,
    DeletedRule,
    RelevanceResponse,
    RelevanceRules,
    SynonymRule,
)
from app.schemas.roles import Role
from app.web.requests import call, owner_namespace, parse_body, services_of
from app.web.responses import respond
from app.web.routing import BODY_ERRORS, OWNER_ERRORS, Operation, api, owner_operation, route

_TAG = "Relevance"
_WRITE = (*OWNER_ERRORS, *BODY_ERRORS)


def _op(
    summary: str,
    response: type[BaseModel],
    request: type[BaseModel] | None = None,
    errors: tuple[int, ...] = OWNER_ERRORS,
) -> Operation:
    return owner_operation(summary, _TAG, response, request, errors)


def _rule_id(request: Request) -> str:
    rule_id: str = request.path_params["rule_id"]
    if not RULE_ID.fullmatch(rule_id):
        raise invalid("rule_id", RULE_ID_RULE, f"rule_id: must be {RULE_ID_RULE}.")
    return rule_id


@api(_op("Read a retriever's relevance rules", RelevanceResponse))
async def get_rules(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(services_of(request).relevance.get, namespace, retriever_id))


@api(_op("Replace a retriever's relevance rules", RelevanceResponse, RelevanceRules, _WRITE))
async def replace_rules(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, RelevanceRules)
    retriever_id = request.path_params["retriever_id"]
    rules = services_of(request).relevance
    return respond(await call(rules.replace, namespace, retriever_id, body))


@api(_op("Add or replace a synonym set", SynonymRule, SynonymRule, _WRITE))
async def put_synonym(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    rule_id = _rule_id(request)
    body = await parse_body(request, SynonymRule)
    retriever_id = request.path_params["retriever_id"]
    rules = services_of(request).relevance
    return respond(await call(rules.put_synonym, namespace, retriever_id, rule_id, body))


@api(_op("Delete a synonym set", DeletedRule, errors=_WRITE))
async def delete_synonym(request: Request) -> Response:
    return await _delete(request, "synonyms")


@api(_op("Add or replace a curation (pinned and hidden results)", Curation, Curation, _WRITE))
async def put_curation(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    rule_id = _rule_id(request)
    body = await parse_body(request, Curation)
    retriever_id = request.path_params["retriever_id"]
    rules = services_of(request).relevance
    return respond(await call(rules.put_curation, namespace, retriever_id, rule_id, body))


@api(_op("Delete a curation", DeletedRule, errors=_WRITE))
async def delete_curation(request: Request) -> Response:
    return await _delete(request, "curations")


async def _delete(request: Request, kind: str) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    rule_id = _rule_id(request)
    retriever_id = request.path_params["retriever_id"]
    rules = services_of(request).relevance
    return respond(await call(rules.delete_rule, namespace, retriever_id, kind, rule_id))


_RULES = "/v1/retrievers/{retriever_id}/relevance"
routes = [
    route(_RULES, get=get_rules, put=replace_rules),
    route(f"{_RULES}/synonyms/{{rule_id}}", put=put_synonym, delete=delete_synonym),
    route(f"{_RULES}/curations/{{rule_id}}", put=put_curation, delete=delete_curation),
]
