"""One style table (colour and label per method) shared by all figures."""

RULE_STYLE = {
    "max_degree": {"color": "#9e9e9e", "label": "max-degree"},
    "metropolis": {"color": "#1f77b4", "label": "Metropolis"},
    "best_constant": {"color": "#ff7f0e", "label": "best constant"},
    "fmmc": {"color": "#2ca02c", "label": "FMMC (SDP)"},
    "fdla": {"color": "#d62728", "label": "FDLA (SDP)"},
}

METHOD_STYLE = {
    "dgd": {"color": "#7f7f7f", "label": "DGD", "marker": "x"},
    "dsgd": {"color": "#bcbd22", "label": "D-SGD", "marker": "+"},
    "extra": {"color": "#1f77b4", "label": "EXTRA", "marker": "o"},
    "nids": {"color": "#ff7f0e", "label": "NIDS", "marker": "s"},
    "exact_diffusion": {"color": "#e377c2", "label": "exact diffusion", "marker": "v"},
    "gradient_tracking": {"color": "#2ca02c", "label": "DIGing", "marker": "^"},
    "msda": {"color": "#d62728", "label": "MSDA", "marker": "D"},
    "apapc": {"color": "#8c564b", "label": "APAPC", "marker": "P"},
    "opapc": {"color": "#9467bd", "label": "OPAPC", "marker": "*"},
    "gossip": {"color": "#7f7f7f", "label": "gossip", "marker": "."},
    "chebyshev_gossip": {"color": "#17becf", "label": "Chebyshev gossip", "marker": "1"},
    "heavy_ball_gossip": {"color": "#bcbd22", "label": "heavy-ball gossip", "marker": "2"},
}

BANDIT_STYLE = {
    "ucb": {"color": "#7f7f7f", "label": "independent UCB"},
    "gosine": {"color": "#1f77b4", "label": "GosInE"},
    "collab_unaware": {"color": "#ff7f0e", "label": "collab. UCB (context unaware)"},
    "collab_partial": {"color": "#2ca02c", "label": "collab. UCB (partially aware)"},
    "ucb1": {"color": "#9467bd", "label": "UCB1 (alpha = 2)"},
    "linucb": {"color": "#7f7f7f", "label": "LinUCB (one agent, NT rounds)"},
    "dislinucb": {"color": "#d62728", "label": "DisLinUCB"},
    "disbe_lucb": {"color": "#1f77b4", "label": "DisBE-LUCB"},
    "decbe_lucb": {"color": "#2ca02c", "label": "DecBE-LUCB"},
}
