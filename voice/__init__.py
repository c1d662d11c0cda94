"""The customers' voice desk (고객의 소리): inquiries, proposals and complaints (standard 12)."""
