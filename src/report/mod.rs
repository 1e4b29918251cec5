//! Reports: the terminal table, the JSON summary and the report folder,
//! published whole or not at all.

#[cfg(feature = "charts")]
pub mod charts;
#[cfg(feature = "charts")]
pub mod compare;
pub mod consumer_groups;
pub mod explain;
#[cfg(feature = "charts")]
pub mod figures;
#[cfg(feature = "charts")]
pub mod folder;
pub mod junit;
pub mod names;
#[cfg(feature = "charts")]
pub mod page;
pub mod perfetto;
#[cfg(feature = "charts")]
pub mod publish;
pub mod record_path;
pub mod sweep;
pub mod table;
pub mod timeline;
