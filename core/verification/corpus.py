"""Deterministic test and demo media, made at run time with no downloads.

`build_corpus(seed)` returns every family the engine must handle: genuine-looking photos (procedural
natural-image textures, sensor noise, camera EXIF), C2PA-signed AI images (trusted, untrusted,
tampered) with a CA and signing certificate generated here, images carrying Stable Diffusion /
ComfyUI / InvokeAI metadata or an XMP DigitalSourceType, near-duplicates of known-synthetic bank
entries (JPEG quality 60, half size, 3% crop) and more than fifty hostile files. The demo traffic
generator reuses these functions; the same seed always gives the same pixels.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.verification.hashbank import BankEntry
from core.verification.hashing import phash, sha256_bytes


@dataclass(frozen=True)
class Sample:
    name: str                   # file name, extension included
    data: bytes
    family: str                 # genuine, c2pa_ai_trusted, sd_metadata, near_duplicate, hostile, ...
    expect: str                 # the risk the engine should give: low | medium | high | unscannable
    declared_type: str | None = None
    note: str = ""


@dataclass
class Corpus:
    samples: list[Sample]
    bank: list[BankEntry]
    trust_pem: str              # the corpus CA: write it to a file and point trust_anchors_path at it
    extra: dict = field(default_factory=dict)

    def family(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.family == name]


# -- pixels --------------------------------------------------------------------------------------
def natural_image(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like RGB image: 1/f colour texture, soft shapes with edges, then sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    work = (min(w, 768), max(1, round(min(w, 768) * h / w)))
    field_ = np.zeros((work[1], work[0], 3), np.float32)
    for octave in range(1, 7):
        cells = 2 ** octave
        small = rng.normal(0, 1, (cells, max(2, cells * work[1] // work[0]), 3)).astype(np.float32)
        layer = np.stack([np.asarray(Image.fromarray(small[..., c].T).resize(work, Image.BICUBIC))
                          for c in range(3)], axis=-1)
        field_ += layer * (60.0 / octave ** 1.1)
    base = np.clip(field_ + rng.uniform(60, 190, 3), 0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(4, 10))):
        x0, y0 = rng.uniform(0, work[0]), rng.uniform(0, work[1])
        rx, ry = rng.uniform(work[0] * .05, work[0] * .3), rng.uniform(work[1] * .05, work[1] * .3)
        draw.ellipse([x0 - rx, y0 - ry, x0 + rx, y0 + ry], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    if img.size != (w, h):
        img = img.resize((w, h), Image.BICUBIC)
    return _sensor_noise(img, rng)


def _sensor_noise(img: Image.Image, rng) -> Image.Image:
    """Fine texture (the detail that upsampling lacks) plus sensor noise: a real photo's
    high-frequency content, which also gives the files realistic sizes and decoding costs."""
    grain = np.asarray(Image.fromarray(rng.integers(0, 256, (256, 256), dtype=np.uint8))
                       .filter(ImageFilter.GaussianBlur(0.8))).astype(np.int16) - 128
    tile = (grain[..., None] * 0.45 + rng.normal(0, 3.0, (256, 256, 3))).astype(np.int16)
    arr = np.asarray(img).astype(np.int16)
    h, w = arr.shape[:2]
    reps = (-(-h // 256), -(-w // 256), 1)
    noise = np.tile(tile, reps)[:h, :w]
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def camera_exif(seed: int, orientation: int = 1) -> Image.Exif:
    rng = np.random.default_rng(seed)
    make, model = [("Canon", "Canon EOS 80D"), ("NIKON CORPORATION", "NIKON D7500"),
                   ("Apple", "iPhone 13"), ("SONY", "ILCE-7M3")][int(rng.integers(0, 4))]
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = make, model, orientation
    exif[0x0132] = f"2024:0{1 + seed % 9}:1{seed % 10} 10:{10 + seed % 50}:00"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = exif[0x0132]
    ifd[0x8827] = int(rng.choice([100, 200, 400, 800]))
    ifd[0x829D] = float(rng.choice([1.8, 2.8, 4.0, 5.6]))
    ifd[0x920A] = float(rng.choice([24.0, 35.0, 50.0]))
    return exif


def jpeg(img: Image.Image, quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png(img: Image.Image, pnginfo=None, compress_level: int = 3) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=pnginfo, compress_level=compress_level)
    return buf.getvalue()


def genuine_photo(seed: int, size: tuple[int, int] = (640, 480), orientation: int = 1) -> bytes:
    return jpeg(natural_image(seed, size), quality=int(88 + seed % 8), exif=camera_exif(seed, orientation))


# -- generator metadata --------------------------------------------------------------------------
def _text_png(img: Image.Image, chunks: dict[str, str]) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key, value) if key.startswith("XML:") else info.add_text(key, value)
    return png(img, info)


A1111_PARAMETERS = ("portrait photo of a bank customer holding a passport, 85mm\n"
                    "Negative prompt: blurry, cartoon\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, "
                    "Seed: 1234567, Size: 512x512, Model: sd_xl_base_1.0")
COMFY_PROMPT = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0,
                                                           "model": ["4", 0]}},
                "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}}}
COMFY_WORKFLOW = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [[1, 4, 0, 3, 0]]}
INVOKE_META = {"generation_mode": "txt2img", "positive_prompt": "id card photo", "model": {"name": "sdxl"},
               "steps": 30, "app_version": "4.2.0"}


def xmp_packet(source_type: str) -> str:
    return ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType='
            f'"http://cv.iptc.org/newscodes/digitalsourcetype/{source_type}"/></rdf:RDF></x:xmpmeta>'
            '<?xpacket end="w"?>')


def metadata_samples(seed: int) -> list[Sample]:
    img = lambda k: natural_image(seed + k, (512, 512))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111_PARAMETERS.encode("utf-16-be")
    software = Image.Exif()
    software[0x0131] = "Midjourney v6"
    return [
        Sample("sd_a1111.png", _text_png(img(1), {"parameters": A1111_PARAMETERS}), "sd_metadata", "high"),
        Sample("comfyui.png", _text_png(img(2), {"prompt": json.dumps(COMFY_PROMPT),
                                                 "workflow": json.dumps(COMFY_WORKFLOW)}), "comfyui_metadata", "high"),
        Sample("invokeai.png", _text_png(img(3), {"invokeai_metadata": json.dumps(INVOKE_META)}),
               "invokeai_metadata", "high"),
        Sample("sd_a1111.jpg", jpeg(img(4), exif=exif), "sd_metadata", "high"),
        Sample("xmp_dst.jpg", jpeg(img(5), xmp=xmp_packet("trainedAlgorithmicMedia").encode()), "xmp_dst", "high"),
        Sample("xmp_dst.png", _text_png(img(6), {"XML:com.adobe.xmp": xmp_packet(
            "compositeWithTrainedAlgorithmicMedia")}), "xmp_dst", "high"),
        Sample("midjourney_software.jpg", jpeg(img(7), exif=software), "generator_software", "medium"),
        Sample("camera_capture_xmp.jpg", jpeg(img(8), xmp=xmp_packet("digitalCapture").encode(),
                                              exif=camera_exif(seed)), "genuine", "low"),
    ]


# -- C2PA ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    ca_pem: str
    chain_pem: bytes
    key_pem: bytes


def make_credentials(name: str = "Corpus Test") -> Credentials:
    """A root CA and an ES256 signing certificate that C2PA accepts (EKU emailProtection)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def subject(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                          x509.NameAttribute(NameOID.COUNTRY_NAME, "GB")])

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=not sign,
                             crl_sign=not sign, encipher_only=False, decipher_only=False)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(subject(f"{name} Root CA")).issuer_name(subject(f"{name} Root CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(subject(f"{name} Generator")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    return Credentials(pem(ca).decode(), pem(leaf) + pem(ca),
                       key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))


def c2pa_sign(data: bytes, mime: str, creds: Credentials, source_type: str,
              actions_label: str = "c2pa.actions.v2") -> bytes:
    """Embed a manifest whose c2pa.created action declares `source_type`. Offline: no TSA."""
    import c2pa

    manifest = {"claim_generator_info": [{"name": "corpus-generator", "version": "1.0"}], "title": "generated",
                "assertions": [{"label": actions_label, "data": {"actions": [{
                    "action": "c2pa.created",
                    "digitalSourceType": f"http://cv.iptc.org/newscodes/digitalsourcetype/{source_type}"}]}}]}
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(alg=b"es256", sign_cert=creds.chain_pem,
                                                       private_key=creds.key_pem, ta_url=None))
    context = c2pa.Context.from_dict({"verify": {"verify_after_sign": False, "remote_manifest_fetch": False,
                                                 "ocsp_fetch": False}, "builder": {"thumbnail": {"enabled": False}}})
    out = io.BytesIO()
    with c2pa.Builder(manifest, context=context) as builder:
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


def tamper_jpeg(data: bytes) -> bytes:
    """Change a few bits of entropy-coded pixels: still decodes, no longer matches its hash."""
    buf = bytearray(data)
    start = buf.rfind(b"\xff\xda")
    pos = (start + len(buf)) // 2
    changed = 0
    while changed < 4 and pos < len(buf) - 4:
        if buf[pos] < 0xFE and buf[pos - 1] != 0xFF:
            buf[pos] ^= 0x01
            changed += 1
        pos += 97
    return bytes(buf)


def c2pa_samples(seed: int, trusted: Credentials, stranger: Credentials) -> list[Sample]:
    img = lambda k: natural_image(seed + 100 + k, (512, 384))
    ai = c2pa_sign(jpeg(img(0)), "image/jpeg", trusted, "trainedAlgorithmicMedia")
    return [
        Sample("c2pa_ai_trusted.jpg", ai, "c2pa_ai_trusted", "high"),
        Sample("c2pa_ai_v1_trusted.jpg", c2pa_sign(jpeg(img(1)), "image/jpeg", trusted,
                                                   "compositeWithTrainedAlgorithmicMedia", "c2pa.actions"),
               "c2pa_ai_trusted", "high"),
        Sample("c2pa_ai_trusted.png", c2pa_sign(png(img(2)), "image/png", trusted, "algorithmicMedia"),
               "c2pa_ai_trusted", "high"),
        Sample("c2pa_ai_untrusted.jpg", c2pa_sign(jpeg(img(3)), "image/jpeg", stranger, "trainedAlgorithmicMedia"),
               "c2pa_ai_untrusted", "high"),
        Sample("c2pa_ai_tampered.jpg", tamper_jpeg(ai), "c2pa_ai_tampered", "high"),
        Sample("c2pa_capture_trusted.jpg", c2pa_sign(jpeg(img(4), exif=camera_exif(seed)), "image/jpeg", trusted,
                                                     "digitalCapture"), "c2pa_capture", "low"),
        Sample("c2pa_capture_tampered.jpg", tamper_jpeg(c2pa_sign(jpeg(img(5)), "image/jpeg", trusted,
                                                                  "digitalCapture")), "c2pa_tampered", "medium"),
    ]


# -- near-duplicates -----------------------------------------------------------------------------
def variants(img: Image.Image) -> dict[str, bytes]:
    """The edits a re-upload goes through: recompression, resizing and a 3% crop."""
    w, h = img.size
    dx, dy = round(w * 0.015), round(h * 0.015)
    return {"q60": jpeg(img, quality=60),
            "half": jpeg(img.resize((w // 2, h // 2), Image.LANCZOS), quality=85),
            "crop3": jpeg(img.crop((dx, dy, w - dx, h - dy)), quality=85)}


def bank_samples(seed: int, count: int = 3) -> tuple[list[Sample], list[BankEntry]]:
    samples, entries = [], []
    for k in range(count):
        img = natural_image(seed + 200 + k, (640, 480))
        original = png(img)
        entry_id = 9000 + k
        entries.append(BankEntry(entry_id, "known_synthetic", sha256_bytes(original), phash(img),
                                 "corpus", f"synthetic original {k}"))
        samples.append(Sample(f"bank_original_{k}.png", original, "bank_exact", "high"))
        for name, data in variants(img).items():
            samples.append(Sample(f"bank_{k}_{name}.jpg", data, "near_duplicate", "high", note=name))
    genuine = genuine_photo(seed + 299)
    entries.append(BankEntry(9100, "known_genuine", sha256_bytes(genuine), None, "corpus", "verified capture"))
    samples.append(Sample("known_genuine.jpg", genuine, "known_genuine", "low"))
    return samples, entries


def build_corpus(seed: int = 7, genuine: int = 12) -> Corpus:
    from core.verification.hostile import hostile_samples

    trusted, stranger = make_credentials("Corpus Trusted"), make_credentials("Corpus Stranger")
    samples = [Sample(f"genuine_{k:02d}.jpg", genuine_photo(seed + k, orientation=6 if k % 5 == 4 else 1),
                      "genuine", "low", "image/jpeg") for k in range(genuine)]
    samples += metadata_samples(seed + 50)
    samples += c2pa_samples(seed, trusted, stranger)
    bank_part, bank = bank_samples(seed)
    samples += bank_part
    samples += hostile_samples(seed)
    return Corpus(samples=samples, bank=bank, trust_pem=trusted.ca_pem)
