"""One corpus and one sandboxed engine per test session: building them is the slow part."""
from __future__ import annotations

import pytest

from core.verification.config import EngineConfig
from core.verification.corpus import build_corpus
from core.verification.engine import Engine
from core.verification.hashbank import MemoryHashBank


@pytest.fixture(scope="session")
def corpus():
    return build_corpus(seed=7)


@pytest.fixture(scope="session")
def trust_file(corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("c2pa") / "trust_anchors.pem"
    path.write_text(corpus.trust_pem)
    return path


@pytest.fixture(scope="session")
def engine(corpus, trust_file):
    with Engine(EngineConfig(trust_anchors_path=trust_file), MemoryHashBank(corpus.bank)) as eng:
        yield eng


@pytest.fixture(scope="session")
def outcomes(corpus, engine):
    """Every corpus sample scanned once: {file name: (sample, outcome)}."""
    return {s.name: (s, engine.scan_bytes(s.data, file_name=s.name, declared_type=s.declared_type))
            for s in corpus.samples}
