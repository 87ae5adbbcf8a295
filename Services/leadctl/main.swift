print("leadctl: not yet")
