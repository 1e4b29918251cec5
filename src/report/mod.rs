//! Reports: the terminal table, the JSON summary and the report folder,
//! published whole or not at all.

pub mod charts;
pub mod compare;
pub mod explain;
pub mod figures;
pub mod folder;
pub mod junit;
pub mod publish;
pub mod sweep;
pub mod table;
