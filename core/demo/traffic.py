"""Demo traffic: people uploading files onto customer records in the demo org, at a realistic
rate with occasional bursts. Mostly genuine photos; the rest shows every verdict path on the first run:
images whose C2PA provenance declares AI generation, images carrying generator metadata (or naming a
generator), near-duplicates of the files the demo history confirmed synthetic (core/demo/history.py
banks them), and a few broken or hostile files. Made by the project's own generators."""
from __future__ import annotations

import base64
import logging
import random
import threading
from dataclasses import dataclass

import requests

from core.verification import corpus
from core.verification.hostile import hostile_samples

log = logging.getLogger("responsedesk.demo")
PNG_MAGIC = b"\x89PNG"
DEMO_SEED = 7  # the traffic's files; core/demo/history.py banks the originals of its near-duplicates
UPLOADERS = ["kyc.morgan", "kyc.sam", "kyc.ines", "advisor.ruth", "advisor.tomas", "advisor.aiko"]


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    kind: str


class FileFactory:
    """Cycles through pre-built families so the demo never blocks on image generation."""

    # (family, share of uploads, name stem): everything but "genuine" is held for review.
    MIX = (("genuine", 0.70, "selfie"), ("metadata", 0.09, "id_document"), ("c2pa", 0.07, "passport_scan"),
           ("near_duplicate", 0.08, "id_document"), ("generator_software", 0.03, "portrait"),
           ("hostile", 0.03, "scan"))

    def __init__(self, seed: int = 11):
        self.rng = random.Random(seed)
        metadata = corpus.metadata_samples(seed)
        trusted, stranger = corpus.make_credentials("Demo Generator"), corpus.make_credentials("Demo Stranger")
        bank, _ = corpus.bank_samples(seed)  # near-duplicates of the originals the demo history banks
        self.families = {
            "genuine": [corpus.genuine_photo(n, size=(640, 480)) for n in range(12)],
            "metadata": [s.data for s in metadata if s.expect == "high"],
            "generator_software": [s.data for s in metadata if s.family == "generator_software"],
            "c2pa": [s.data for s in corpus.c2pa_samples(seed, trusted, stranger) if s.expect == "high"],
            "near_duplicate": [s.data for s in bank if s.family == "near_duplicate"],
            # Small hostile files only: the demo shows them quarantined as unscannable, not a slow org.
            "hostile": [s.data for s in hostile_samples(seed) if len(s.data) < 2_000_000][:12],
        }

    def next(self, n: int) -> Upload:
        family, _, stem = self.rng.choices(self.MIX, weights=[m[1] for m in self.MIX])[0]
        data = self.rng.choice(self.families[family] or self.families["genuine"])
        extension = "png" if data.startswith(PNG_MAGIC) else "jpg"
        return Upload(f"{stem}_{n}.{extension}", data, family)


class Traffic:
    def __init__(self, base_url: str, ca_path: str, records: list[str], domain: str, *, seed: int = DEMO_SEED,
                 mean_gap_s: float = 6.0, burst_chance: float = 0.04, burst_size: tuple[int, int] = (15, 40)):
        self.base_url, self.records, self.domain = base_url.rstrip("/"), records, domain
        self.http = requests.Session()
        self.http.verify, self.http.trust_env = ca_path, False
        self.rng = random.Random(seed)
        self.files = FileFactory(seed)
        self.mean_gap_s, self.burst_chance, self.burst_size = mean_gap_s, burst_chance, burst_size
        self.sent = 0

    def upload_one(self) -> str:
        upload = self.files.next(self.sent)
        response = self.http.post(f"{self.base_url}/__emulator/files", timeout=30, json={
            "username": f"{self.rng.choice(UPLOADERS)}@{self.domain}", "record_id": self.rng.choice(self.records),
            "path_on_client": upload.name, "data_base64": base64.b64encode(upload.data).decode()})
        response.raise_for_status()
        self.sent += 1
        return upload.kind

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            count = self.rng.randint(*self.burst_size) if self.rng.random() < self.burst_chance else 1
            if count > 1:
                log.info("demo burst: %d uploads at once", count)
            for _ in range(count):
                try:
                    self.upload_one()
                except requests.RequestException as error:
                    log.warning("demo upload failed: %s", error)
            stop.wait(self.rng.expovariate(1.0 / self.mean_gap_s))
