"""Follow-up: the rules that remind people, planned once per occurrence (rule × person × period)."""
