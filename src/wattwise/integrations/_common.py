"""What every integration shares, in one import: metrics and the guard (_metrics), FLOPs per step shape
(_flops), the card files (_cards), a run continued by a resumed fit (_resume). Standard library at import;
torch and the report load on first use."""

from ._cards import *  # noqa: F401,F403
from ._cards import co2_metadata, merge_model_card, run_footprint, write_card  # noqa: F401
from ._flops import *  # noqa: F401,F403
from ._flops import ForwardFlops, StepFlops, count_tokens, shape_key  # noqa: F401
from ._metrics import *  # noqa: F401,F403
from ._metrics import (  # noqa: F401
                       CARD_FILES,
                       DEFAULT_METRICS,
                       METRICS,
                       PREFIX,
                       Guard,
                       metric_names,
                       metrics,
                       summary_line,
)
from ._resume import *  # noqa: F401,F403
from ._resume import continue_part, continued_tracker  # noqa: F401
