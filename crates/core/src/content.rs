//! Content blocks: what messages, tool results and system messages are made of.
//!
//! [`ContentBlock`] is one open union over every block the API defines (`text`, `image`,
//! `document`, `search_result`, `redacted`). The API accepts a different subset in each place
//! (an `agent.message` holds only `text` and `redacted`; a tool result holds `text`, `image`,
//! `document` and `search_result`); this crate uses the one union everywhere, so a client keeps
//! what a newer server sends, and the local platform checks the subset where it matters.
//! [`TextContent`] is the text-only union of system messages and search-result bodies.
//!
//! ```
//! use steward_core::content::ContentBlock;
//!
//! let block = ContentBlock::text("hi");
//! assert_eq!(serde_json::to_string(&block).unwrap(), r#"{"type":"text","text":"hi"}"#);
//! assert_eq!(block.as_text(), Some("hi"));
//! ```

use serde::{Deserialize, Serialize};

use crate::{FileId, Nullable};

/// A `text` block: `{type:"text", text}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlock {
    /// The text.
    pub text: String,
}

impl TextBlock {
    /// A text block holding `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

/// An `image` block: `{type:"image", source}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    /// Where the image data comes from.
    pub source: ImageSource,
}

/// A `document` block: `{type:"document", source, title?, context?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentBlock {
    /// Where the document data comes from.
    pub source: DocumentSource,
    /// Additional context about the document for the model.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub context: Nullable<String>,
    /// The title of the document.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
}

/// A `search_result` block: one web search result with its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResultBlock {
    /// Citation settings of this result.
    pub citations: SearchResultCitations,
    /// The text of the result, as text blocks.
    pub content: Vec<TextContent>,
    /// The URL the result comes from (a plain string, not a source object).
    pub source: String,
    /// The title of the result.
    pub title: String,
}

/// Citation settings of a [`SearchResultBlock`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResultCitations {
    /// Whether citations are enabled for this result.
    pub enabled: bool,
}

/// A `redacted` block: content withheld by Anthropic model policy. It has no fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedBlock {}

crate::open_union! {
    /// A content block of a message, tool result or thread message.
    pub enum ContentBlock {
        /// Plain text.
        "text" => Text(TextBlock),
        /// An image.
        "image" => Image(ImageBlock),
        /// A document (PDF, plain text, …).
        "document" => Document(DocumentBlock),
        /// A web search result.
        "search_result" => SearchResult(SearchResultBlock),
        /// Content withheld by policy.
        "redacted" => Redacted(RedactedBlock),
    }
}

impl ContentBlock {
    /// A `text` block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextBlock::new(text))
    }

    /// An `image` block whose data is sent inline, base64-encoded.
    pub fn image_base64(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self::Image(ImageBlock {
            source: ImageSource::Base64(Base64Source::new(media_type, data)),
        })
    }

    /// An `image` block fetched from a URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::Image(ImageBlock {
            source: ImageSource::Url(UrlSource::new(url)),
        })
    }

    /// An `image` block referring to a file uploaded through the Files API.
    pub fn image_file(file_id: impl Into<FileId>) -> Self {
        Self::Image(ImageBlock {
            source: ImageSource::File(FileSource::new(file_id)),
        })
    }

    /// A `document` block from a source, without title or context.
    pub fn document(source: impl Into<DocumentSource>) -> Self {
        Self::Document(DocumentBlock {
            source: source.into(),
            context: Nullable::Absent,
            title: Nullable::Absent,
        })
    }

    /// A `document` block holding plain text.
    pub fn document_text(text: impl Into<String>) -> Self {
        Self::document(PlainTextSource::new(text))
    }

    /// A `document` block fetched from a URL.
    pub fn document_url(url: impl Into<String>) -> Self {
        Self::document(UrlSource::new(url))
    }

    /// A `document` block referring to a file uploaded through the Files API.
    pub fn document_file(file_id: impl Into<FileId>) -> Self {
        Self::document(FileSource::new(file_id))
    }

    /// A `redacted` block.
    pub fn redacted() -> Self {
        Self::Redacted(RedactedBlock {})
    }

    /// The text of a `text` block; `None` for any other block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(block) => Some(&block.text),
            _ => None,
        }
    }
}

impl From<&str> for ContentBlock {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for ContentBlock {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

crate::open_union! {
    /// A text-only content block: the content of a `system.message` and of a search result.
    pub enum TextContent {
        /// Plain text.
        "text" => Text(TextBlock),
    }
}

impl TextContent {
    /// A `text` block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextBlock::new(text))
    }

    /// The text of a `text` block; `None` for an unknown block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(block) => Some(&block.text),
            Self::Unknown(_) => None,
        }
    }
}

/// Inline data, base64-encoded: `{type:"base64", data, media_type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base64Source {
    /// The base64-encoded bytes.
    pub data: String,
    /// MIME type (`image/png`, `application/pdf`, …).
    pub media_type: String,
}

impl Base64Source {
    /// Inline data of the given MIME type.
    pub fn new(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            media_type: media_type.into(),
        }
    }
}

/// Data the server fetches from a URL: `{type:"url", url}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSource {
    /// The URL to fetch.
    pub url: String,
}

impl UrlSource {
    /// A URL source.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}

/// A file uploaded through the Files API: `{type:"file", file_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSource {
    /// ID of the uploaded file.
    pub file_id: FileId,
}

impl FileSource {
    /// A file source.
    pub fn new(file_id: impl Into<FileId>) -> Self {
        Self {
            file_id: file_id.into(),
        }
    }
}

/// Plain-text document data: `{type:"text", data, media_type:"text/plain"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainTextSource {
    /// The text.
    pub data: String,
    /// MIME type; the API requires `"text/plain"`.
    pub media_type: String,
}

impl PlainTextSource {
    /// The only media type the API accepts for a text source.
    pub const MEDIA_TYPE: &'static str = "text/plain";

    /// A `text/plain` source holding `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            data: text.into(),
            media_type: Self::MEDIA_TYPE.to_owned(),
        }
    }
}

crate::open_union! {
    /// Where an image's data comes from.
    pub enum ImageSource {
        /// Inline base64 data.
        "base64" => Base64(Base64Source),
        /// A URL the server fetches.
        "url" => Url(UrlSource),
        /// An uploaded file.
        "file" => File(FileSource),
    }
}

crate::open_union! {
    /// Where a document's data comes from.
    pub enum DocumentSource {
        /// Inline base64 data (for example a PDF).
        "base64" => Base64(Base64Source),
        /// Inline plain text.
        "text" => Text(PlainTextSource),
        /// A URL the server fetches.
        "url" => Url(UrlSource),
        /// An uploaded file.
        "file" => File(FileSource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_write_the_wire_shape() {
        let cases = [
            (
                ContentBlock::image_url("https://x/y.png"),
                r#"{"type":"image","source":{"type":"url","url":"https://x/y.png"}}"#,
            ),
            (
                ContentBlock::document_text("notes"),
                r#"{"type":"document","source":{"type":"text","data":"notes","media_type":"text/plain"}}"#,
            ),
            (
                ContentBlock::image_file("file_1"),
                r#"{"type":"image","source":{"type":"file","file_id":"file_1"}}"#,
            ),
            (ContentBlock::redacted(), r#"{"type":"redacted"}"#),
        ];
        for (block, json) in cases {
            assert_eq!(serde_json::to_string(&block).unwrap(), json);
            assert_eq!(serde_json::from_str::<ContentBlock>(json).unwrap(), block);
        }
    }
}
