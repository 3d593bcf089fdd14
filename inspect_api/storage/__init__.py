"""Object storage behind one contract (base.py): local disk or S3."""
from __future__ import annotations


def build_storage(config):
    backend = config["STORAGE_BACKEND"]
    if backend == "s3":
        from .s3 import S3Storage

        return S3Storage.from_config(config)
    from .local import LocalStorage

    return LocalStorage(config["UPLOAD_ROOT"])


def get_storage(app=None):
    from flask import current_app

    return (app or current_app).extensions["inspect_storage"]
