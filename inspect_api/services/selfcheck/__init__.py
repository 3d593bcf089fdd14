"""Self-inspection: the enterprise's own half of 双重预防 and the bureau's view of it.

sources      major hazard sources (重大危险源) and their three duty holders (包保责任人)
duties       the bureau's check duties (how often each duty role checks a source) and the due
             self-checks they generate; missed checks
checks       a duty holder's check on a checklist, the hazards it found (企业自查: the same hazards
             table and lifecycle, origin "self"), and the enterprise's own closure of general ones
commitments  the daily safety commitment (安全承诺) and who has not submitted by the bureau's hour
recheck      the bureau's reproducible random sample of self-closed hazards (地方复核) and the
             inspectors' re-check results (a fix found wanting reopens the hazard with a notice)
stats        self-found vs inspector-found, self-check completion, commitment punctuality,
             re-check disagreement
"""
