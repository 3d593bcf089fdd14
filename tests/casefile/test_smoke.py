import io
import zipfile

from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.casefile import verifier

from .conftest import VKEY, legal_actor


def test_archive_and_verify(db, closed_case, legal, settings, storage, tmp_path):
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    data = storage.read_bytes(archive_service.package_key(cf))
    path = tmp_path / "p.zip"
    path.write_bytes(data)
    print(zipfile.ZipFile(io.BytesIO(data)).namelist())
    print(verifier.verify_package(str(path), VKEY))
    print(cf.findings)
