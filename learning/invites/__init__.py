"""支部建在线上: invitation links and QR codes to join a branch, and the requests they bring."""
from flask import Blueprint

bp = Blueprint("invites", __name__)
