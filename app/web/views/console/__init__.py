"""The publisher's console at /console: server-rendered pages over the same services as the
owner API, behind a session opened with an owner key (see docs/console.md)."""

from __future__ import annotations

from starlette.routing import Route

from app.web.views.console import (
    access,
    collections,
    editor,
    insights,
    pages,
    plugins,
    relevance,
    retrievers,
    search,
    session,
    versions,
)

routes = [
    Route("/console", session.home, methods=["GET"]),
    Route("/console/sign-in", session.sign_in_form, methods=["GET"]),
    Route("/console/sign-in", session.sign_in, methods=["POST"]),
    Route("/console/sign-out", session.sign_out, methods=["POST"]),
    Route("/console/namespace", session.switch_namespace, methods=["POST"]),
    Route("/console/collections", collections.collections, methods=["GET"]),
    Route("/console/collections/upload", collections.upload, methods=["POST"]),
    Route("/console/collections/{collection}", collections.documents, methods=["GET"]),
    Route("/console/collections/{collection}/embedding", collections.embedding, methods=["POST"]),
    Route(
        "/console/collections/{collection}/delete",
        collections.delete_collection,
        methods=["GET", "POST"],
    ),
    Route("/console/retrievers", retrievers.retrievers, methods=["GET"]),
    Route("/console/retrievers/new", retrievers.new_retriever, methods=["GET", "POST"]),
    Route("/console/retrievers/{retriever_id}", editor.editor, methods=["GET"]),
    Route("/console/retrievers/{retriever_id}", editor.save, methods=["POST"]),
    Route("/console/retrievers/{retriever_id}/preview", editor.preview, methods=["GET"]),
    Route("/console/retrievers/{retriever_id}/preview", editor.preview_live, methods=["POST"]),
    Route("/console/retrievers/{retriever_id}/preview/check", editor.check_live, methods=["POST"]),
    Route("/console/retrievers/{retriever_id}/publish", editor.publish, methods=["POST"]),
    Route("/console/retrievers/{retriever_id}/discard", editor.discard, methods=["POST"]),
    Route("/console/retrievers/{retriever_id}/search", search.search, methods=["GET", "POST"]),
    Route("/console/retrievers/{retriever_id}/versions", versions.versions, methods=["GET"]),
    Route(
        "/console/retrievers/{retriever_id}/versions/{number}", versions.version, methods=["GET"]
    ),
    Route(
        "/console/retrievers/{retriever_id}/versions/{number}/rollback",
        versions.rollback,
        methods=["POST"],
    ),
    Route("/console/retrievers/{retriever_id}/access", access.access, methods=["GET", "POST"]),
    Route(
        "/console/retrievers/{retriever_id}/access/rotate-key",
        access.rotate_key,
        methods=["GET", "POST"],
    ),
    Route("/console/pages", pages.pages, methods=["GET"]),
    Route("/console/pages/new", pages.new_page, methods=["GET", "POST"]),
    Route("/console/pages/{page_id}", pages.edit_page, methods=["GET", "POST"]),
    Route("/console/pages/{page_id}/delete", pages.delete_page, methods=["GET", "POST"]),
    Route("/console/plugins", plugins.plugins, methods=["GET"]),
    Route("/console/plugins/install", plugins.install, methods=["POST"]),
    Route("/console/plugins/{tag}/uninstall", plugins.uninstall, methods=["GET", "POST"]),
    Route("/console/retrievers/{retriever_id}/insights", insights.insights, methods=["GET"]),
    Route("/console/retrievers/{retriever_id}/insights.csv", insights.export, methods=["GET"]),
    Route("/console/retrievers/{retriever_id}/relevance", relevance.rules, methods=["GET"]),
    Route(
        "/console/retrievers/{retriever_id}/relevance/{kind}",
        relevance.change,
        methods=["POST"],
    ),
]
