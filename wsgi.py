"""The only module-level app object: ``gunicorn wsgi:app`` / ``flask --app wsgi``."""
from inspect_api import create_app

app = create_app()
