"""Physical and accounting constants, each defined once, with its source.

Every module that converts units or FLOPs imports them from here (no second copy of 6, 2, 3.6e6 or 3600).
"""

from __future__ import annotations

# Forward pass FLOPs per parameter per token (one multiply-accumulate = 2 FLOPs); backward ~ 2x forward, hence
# C = 6 N D for training a dense transformer and 2 N per token for inference (Kaplan et al. 2020, Sec. 2.1).
TRAIN_FLOPS_PER_PARAM_TOKEN = 6.0
INFER_FLOPS_PER_PARAM_TOKEN = 2.0
FLOPS_SOURCE = "C = 6 N D training, 2 N per token inference (Kaplan et al. 2020, Sec. 2.1)"

# SI definitions: 1 kWh = 1000 W x 3600 s = 3.6 MJ.
J_PER_KWH = 3.6e6
S_PER_HOUR = 3600.0
W_PER_KW = 1000.0
G_PER_KG = 1000.0
# Julian year (365.25 days x 24 h), used for hardware amortisation and yearly serving.
HOURS_PER_YEAR = 8766.0
# The international avoirdupois pound, exactly 0.45359237 kg (International Yard and Pound Agreement, 1959);
# papers report CO2e in lbs (Strubell et al. 2019) and US intensities in lb/MWh (EPA eGRID).
KG_PER_LB = 0.45359237
S_PER_DAY = 86400.0
