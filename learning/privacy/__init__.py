"""Personal-data rights (PIPL): see and download one's data, deactivation, erasure, the notice."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)
