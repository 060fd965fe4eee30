"""Course recommender and learning-plan builder (DESIGN §5).

Independent of Flask and of the database: it takes and returns pandas DataFrames, numpy arrays
and dataclasses.  ``Recommender`` is the model, ``Profile`` a member at scoring time,
``Recommendation`` one recommended course with its reason; ``recommender.plan`` builds plans,
``recommender.evaluation`` measures models against baselines, ``recommender.synthetic`` generates
development data.
"""

from .model import Recommender
from .persistence import FORMAT_VERSION, ModelFormatError, read_header
from .profile import Profile, Recommendation
from .reasons import Reason, format_reason

__all__ = ["FORMAT_VERSION", "ModelFormatError", "Profile", "Reason", "Recommendation",
           "Recommender", "format_reason", "read_header"]
