"""ciyuan (词元): measure, price, meter, settle and report LLM tokens.

The public Python surface; everything else is internal and may change.
"""

from ciyuan.core.errors import CiyuanError
from ciyuan.core.measurement import Measurement
from ciyuan.core.usage import Usage
from ciyuan.measure import count
from ciyuan.price import Rating, rate

__version__ = "0.1.0"

__all__ = ["CiyuanError", "Measurement", "Rating", "Usage", "__version__", "count", "rate"]
