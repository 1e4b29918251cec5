//! Reports: the terminal table, the JSON summary and the report folder.

pub mod charts;
pub mod compare;
pub mod explain;
pub mod figures;
pub mod folder;
pub mod sweep;
pub mod table;
