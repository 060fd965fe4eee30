"""Required courses (支部要求): a secretary assigns a course to an organization subtree with a due date."""
