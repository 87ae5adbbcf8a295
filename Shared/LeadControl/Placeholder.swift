enum LeadControlPlaceholder {}
