"""红帆学院 Hongfan Academy: the Flask application."""
from learning.app import create_app

__all__ = ["create_app"]
