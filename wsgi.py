"""The WSGI entry point for a production server: `gunicorn -c gunicorn.conf.py wsgi:app`."""

from app import create_app

app = create_app()
