"""The committed Python modules for the Pub/Sub API are what grpcio-tools makes from the committed
proto today: a change to pubsub_api.proto without regenerating them fails here."""
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT

PROTO = Path("core/adapters/salesforce/proto/pubsub_api.proto")


def test_generated_stubs_match_the_proto(tmp_path):
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I.", f"--python_out={tmp_path}",
                    f"--grpc_python_out={tmp_path}", str(PROTO)], cwd=PROJECT_ROOT, check=True)
    for name in ("pubsub_api_pb2.py", "pubsub_api_pb2_grpc.py"):
        fresh = (tmp_path / PROTO.parent / name).read_text()
        assert fresh == (PROJECT_ROOT / PROTO.parent / name).read_text(), f"regenerate {name} (see the proto's header)"
