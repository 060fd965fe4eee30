"""The organization tree and the members of each node, for secretaries and administrators."""
from flask import Blueprint

bp = Blueprint("orgs", __name__)

