//! Who is calling: a customer of a tenant, with roles.
//!
//! Identity is established by the interface layer (JWT claims in AWS, dev
//! headers locally); the domain only decides what an identity may do.

use crate::ids::{CustomerId, TenantId};

/// A role granted to a caller. Unknown role names are kept but grant nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// May create and replace events.
    Organizer,
    Other(String),
}

impl Role {
    pub fn parse(name: &str) -> Self {
        match name {
            "organizer" => Self::Organizer,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub roles: Vec<Role>,
}

impl Identity {
    pub fn is_organizer(&self) -> bool {
        self.roles.contains(&Role::Organizer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(roles: &[&str]) -> Identity {
        Identity {
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("alice").unwrap(),
            roles: roles.iter().map(|r| Role::parse(r)).collect(),
        }
    }

    #[test]
    fn a_caller_with_the_organizer_role_is_an_organizer() {
        assert!(identity(&["buyer", "organizer"]).is_organizer());
    }

    #[test]
    fn a_caller_without_the_organizer_role_is_not_one_even_with_a_similar_name() {
        assert!(!identity(&["Organizer", "organizers", "admin"]).is_organizer());
    }
}
